"""SAML 2.0 as a service provider, through pysaml2 (signatures checked by Debian's xmlsec1).

Two service providers live here: the role-SSO one (one per installation, for
AssumeRoleWithSAML and console role SSO; the assertion's Recipient is its ACS URL, which trust
policies check as `saml:recipient`) and, per account, the user-SSO one. Both accept
IdP-initiated responses (unsolicited), require a signed response or assertion, bound the clock
skew, check audience, destination, the bearer confirmation's recipient and lifetime, and accept
each assertion once. Only the user-SSO one sends AuthnRequests: a response answering one
(InResponseTo) must answer a request the same browser started and that is not answered yet.
"""

from __future__ import annotations

import base64
import binascii
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings

from accounts.errors import IamError, InvalidParameter
from singleuse.services import SAML_ASSERTION, use_once

ROLE_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/Role"
SESSION_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/SessionDuration"
NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
NAMEID_PREFIX_11 = "urn:oasis:names:tc:SAML:1.1:nameid-format:"
CLOCK_SKEW_SECONDS = 120
MAX_RESPONSE_CHARS = 100_000


class SamlRejected(IamError):
    status = 401


@dataclass(frozen=True)
class ServiceProvider:
    entity_id: str
    acs_url: str


def public_url() -> str:
    return settings.IAM_PUBLIC_URL.rstrip("/")


def role_sp() -> ServiceProvider:
    base = public_url()
    return ServiceProvider(f"{base}/saml/role-sso", f"{base}/console/sso/saml-role")


def user_sp(account_uid: str) -> ServiceProvider:
    base = public_url()
    return ServiceProvider(f"{base}/saml/{account_uid}", f"{base}/console/sso/saml/{account_uid}")


@cache
def xmlsec_binary() -> str:
    found = settings.IAM_SAML_XMLSEC or shutil.which("xmlsec1")
    if not found:
        raise IamError(
            "ServiceUnavailable",
            "SAML needs xmlsec1 on the server (apt-get install xmlsec1).",
            status=503,
        )
    return found


def _sp_config(
    sp: ServiceProvider, idp_metadata: str, key_files: tuple[str, str] | None = None
) -> Any:
    """pysaml2's SP configuration; with the SP key files it signs its AuthnRequests."""
    from saml2 import BINDING_HTTP_POST
    from saml2.config import SPConfig

    signing: dict[str, Any] = {}
    if key_files is not None:
        signing = {"key_file": key_files[0], "cert_file": key_files[1]}
    return SPConfig().load(
        {
            **signing,
            "entityid": sp.entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "metadata": {"inline": [idp_metadata]},
            "accepted_time_diff": CLOCK_SKEW_SECONDS,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
                    "allow_unsolicited": True,
                    "want_response_signed": False,
                    "want_assertions_signed": False,
                    "want_assertions_or_response_signed": True,
                    "authn_requests_signed": key_files is not None,
                }
            },
        }
    )


def metadata_entity_id(metadata: str) -> str:
    """The IdP entity id of a metadata document; refused with a reason when it is not one."""
    from saml2.mdstore import MetadataStore

    if len(metadata) > 1_000_000:
        raise InvalidParameter("InvalidParameter.EncodedSAMLMetadataDocument", "Too large.")
    try:
        from saml2 import config

        store = MetadataStore(attrc=config.SPConfig().load({}).attribute_converters, config=None)
        store.load("inline", metadata)
        entities = store.keys()
        idps = [entity for entity in entities if store.single_sign_on_service(entity)]
        if len(idps) != 1:
            raise ValueError("it must describe exactly one identity provider")
        entity = idps[0]
        if not store.certs(entity, "idpsso", use="signing"):
            raise ValueError("it has no signing certificate")
    except Exception as exc:  # pysaml2 raises many kinds for bad XML
        raise InvalidParameter(
            "InvalidParameter.EncodedSAMLMetadataDocument",
            f"The SAML metadata is not valid: {exc}"[:300],
        ) from exc
    return str(entity)


@dataclass(frozen=True)
class SamlIdentity:
    issuer: str
    subject: str
    subject_type: str
    recipient: str
    assertion_id: str
    not_on_or_after: datetime
    attributes: dict[str, list[str]] = field(default_factory=dict)
    in_response_to: str = ""

    def first(self, name: str) -> str:
        values = self.attributes.get(name) or []
        return str(values[0]) if values else ""


def _decode(encoded: str) -> str:
    if not 4 <= len(encoded) <= MAX_RESPONSE_CHARS:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Invalid", "The SAMLAssertion is 4 to 100000 chars."
        )
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Invalid", "The SAMLAssertion is not Base64 XML."
        ) from exc


def verify_response(
    encoded: str, idp_metadata: str, sp: ServiceProvider, *, outstanding: Collection[str] = ()
) -> SamlIdentity:
    """Parse and verify a Base64 SAML Response posted to `sp`. `outstanding` holds the IDs of
    the AuthnRequests this browser sent to the IdP and are not answered yet: a response that
    names one (InResponseTo) must name one of them; an unsolicited one names none."""
    xml = _decode(encoded)
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise SamlRejected("AuthenticationFail.SAMLAssertion.Invalid", "DTDs are not accepted.")
    response = _parsed(encoded, idp_metadata, sp)
    info = response.session_info()
    name_id = info["name_id"]
    assertion = response.assertion
    data = _bearer_confirmation(assertion, sp)
    return SamlIdentity(
        issuer=str(info.get("issuer") or ""),
        subject=str(name_id.text or "").strip() if name_id is not None else "",
        subject_type=(str(name_id.format or "") if name_id is not None else "")
        .removeprefix(NAMEID_PREFIX)
        .removeprefix(NAMEID_PREFIX_11),
        recipient=str(data.recipient),
        assertion_id=str(assertion.id),
        not_on_or_after=_confirmation_expiry(data),
        attributes=_attributes(assertion, info.get("ava") or {}),
        in_response_to=_answered_request(response.response.in_response_to, data, outstanding),
    )


def _parsed(encoded: str, idp_metadata: str, sp: ServiceProvider) -> Any:
    """pysaml2's checks: signature, issuer's key, Destination, Audience, Conditions' and the
    bearer confirmations' NotBefore / NotOnOrAfter (with the skew)."""
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.response import IncorrectlySigned, StatusError
    from saml2.sigver import SignatureError
    from saml2.validate import ResponseLifetimeExceed, ToEarly

    client = Saml2Client(config=_sp_config(sp, idp_metadata))
    try:
        response = client.parse_authn_request_response(encoded, BINDING_HTTP_POST)
    except (SignatureError, IncorrectlySigned) as exc:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.InvalidSignature",
            "The SAML response is not signed by the provider.",
        ) from exc
    except (ResponseLifetimeExceed, ToEarly) as exc:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Expired",
            "The SAML assertion is expired or not yet valid.",
        ) from exc
    except StatusError as exc:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Invalid", f"The IdP reported an error: {exc}"[:300]
        ) from exc
    except Exception as exc:
        text = str(exc)
        code = "AuthenticationFail.SAMLAssertion.Invalid"
        if "Audience" in text:
            code = "AuthenticationFail.SAMLAssertion.AudienceNotMatch"
        elif "signed" in text.lower():
            code = "AuthenticationFail.SAMLAssertion.InvalidSignature"
        raise SamlRejected(code, f"The SAML response was refused: {text}"[:300]) from exc
    if response is None or response.assertion is None:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.AudienceNotMatch",
            f"The SAML response is not addressed to this service provider ({sp.acs_url}).",
        )
    return response


def _bearer_confirmation(assertion: Any, sp: ServiceProvider) -> Any:
    """The SubjectConfirmationData of a bearer confirmation whose Recipient is this SP's ACS
    URL (SAML profiles 4.1.4.2): an assertion for another SP is no use here, even when its
    Audience and the response's Destination are ours."""
    from saml2.saml import SCM_BEARER

    for confirmation in assertion.subject.subject_confirmation:
        data = confirmation.subject_confirmation_data
        bearer = confirmation.method == SCM_BEARER and data is not None
        if bearer and data.recipient == sp.acs_url:
            return data
    raise SamlRejected(
        "AuthenticationFail.SAMLAssertion.Invalid",
        "The assertion's SubjectConfirmationData Recipient is not this service provider's "
        f"ACS URL ({sp.acs_url}).",
    )


def _confirmation_expiry(data: Any) -> datetime:
    """The confirmation's NotOnOrAfter, which the profile requires (pysaml2 checked it has not
    passed): the assertion can't be used after it."""
    from saml2.validate import ResponseLifetimeExceed, validate_on_or_after

    if not data.not_on_or_after:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Invalid",
            "The assertion's SubjectConfirmationData has no NotOnOrAfter.",
        )
    try:
        expiry = validate_on_or_after(data.not_on_or_after, CLOCK_SKEW_SECONDS)
    except (ResponseLifetimeExceed, ValueError) as exc:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Expired",
            "The assertion's SubjectConfirmationData NotOnOrAfter has passed.",
        ) from exc
    return datetime.fromtimestamp(int(expiry), tz=UTC)


def _answered_request(response_answers: str | None, data: Any, outstanding: Collection[str]) -> str:
    """The AuthnRequest a response answers ("" when unsolicited). The response's and the
    confirmation's InResponseTo must agree and name a request of `outstanding`."""
    answers = {value for value in (response_answers, data.in_response_to) if value}
    if not answers:
        return ""
    request_id = answers.pop() if len(answers) == 1 else ""
    if request_id not in outstanding:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Invalid",
            "The response answers a sign-in request (InResponseTo) that this browser did not "
            "start here or that was answered already; sign in again.",
        )
    return request_id


def _attributes(assertion: Any, ava: dict[str, Any]) -> dict[str, list[str]]:
    """Attributes by their Name as sent (pysaml2's ava renames known ones, e.g. an OID to
    "uid"), plus the friendly names."""
    found: dict[str, list[str]] = {k: [str(v) for v in vs] for k, vs in ava.items()}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute:
            values = [str(v.text) for v in attribute.attribute_value if v.text is not None]
            found.setdefault(str(attribute.name), values)
            if attribute.friendly_name:
                found.setdefault(str(attribute.friendly_name), values)
    return found


def accept_once(identity: SamlIdentity, *, step: str = "") -> None:
    """An assertion is accepted once, whichever path presents it (AssumeRoleWithSAML, console
    role SSO, user SSO): one durable record per issuer and assertion id, kept until the
    assertion expires plus the skew. A flow of two steps (console role SSO: verify, then pick
    a role) records its second step under its own `step`, so it too happens once."""
    valid_until = identity.not_on_or_after + timedelta(seconds=CLOCK_SKEW_SECONDS)
    scope = f"{identity.issuer}\n{step}" if step else identity.issuer
    if not use_once(SAML_ASSERTION, scope, identity.assertion_id, valid_until=valid_until):
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.Invalid",
            "This SAML assertion was already used; sign in at the identity provider again.",
        )
