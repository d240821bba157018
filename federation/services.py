"""Identity provider objects: create, update, delete (each checks permission and is audited)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import IntegrityError, transaction

from accounts.errors import Conflict, InvalidParameter, NotFound
from audit.services import changes, event_record
from federation.models import OIDCProvider, SAMLProvider
from policies.guards import require
from policies.principal import Principal

NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$")
FINGERPRINT_RE = re.compile(r"^[0-9A-Fa-f]{40}$")
CLIENT_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
MAX_CLIENT_IDS = 50
MAX_FINGERPRINTS = 5
MAX_JWKS_CHARS = 65536
MAX_KEYS = 20
PROVIDERS_PER_ACCOUNT = 100


def _check_name(name: str, field: str) -> None:
    if not NAME_RE.match(name or ""):
        raise InvalidParameter(
            f"InvalidParameter.{field}",
            f"{field} is 1 to 128 letters, digits or . _ -, starting and ending with a letter "
            "or digit.",
        )


def _check_issuer(url: str) -> str:
    if not url.startswith("https://") or len(url) > 255 or any(c.isspace() for c in url):
        raise InvalidParameter(
            "InvalidParameter.IssuerUrl", "IssuerUrl must be an https:// URL of at most 255 chars."
        )
    return url


def _split(value: str | None, pattern: re.Pattern[str], field: str, limit: int) -> list[str]:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    for item in items:
        if not pattern.match(item):
            raise InvalidParameter(f"InvalidParameter.{field}", f"{field} has an invalid entry.")
    if len(items) > limit:
        raise InvalidParameter(f"InvalidParameter.{field}", f"At most {limit} {field}.")
    return list(dict.fromkeys(items))


def check_jwks(document: str) -> str:
    """A JWKS document of public signing keys, normalised; refused with the reason otherwise."""
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    if len(document) > MAX_JWKS_CHARS:
        raise InvalidParameter("InvalidParameter.JWKS", "The JWKS document is too large.")
    try:
        parsed = json.loads(document)
        keys = parsed["keys"]
        if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
            raise ValueError(f"it must hold 1 to {MAX_KEYS} keys")
        for key in keys:
            if not isinstance(key, dict):
                raise ValueError("every key must be an object")
            if "d" in key or "k" in key:
                raise ValueError("it holds private or symmetric key material; upload public keys")
            if key.get("kty") not in ("RSA", "EC", "OKP"):
                raise ValueError(f"key type {key.get('kty')!r} is not supported")
        KeySet.import_key_set(parsed)
    except (ValueError, KeyError, TypeError, JoseError) as exc:
        raise InvalidParameter(
            "InvalidParameter.JWKS", f"The JWKS document is not valid: {exc}"
        ) from exc
    return json.dumps(parsed, separators=(",", ":"), sort_keys=True)


def _snapshot(provider: OIDCProvider) -> dict[str, Any]:
    return {
        "issuer_url": provider.issuer_url,
        "client_ids": provider.client_ids,
        "fingerprints": provider.fingerprints,
        "issuance_limit_hours": provider.issuance_limit_hours,
        "description": provider.description,
        "jwks_keys": len(json.loads(provider.jwks)["keys"]) if provider.jwks else 0,
    }


def oidc_provider_create(
    *,
    actor: Principal,
    name: str,
    issuer_url: str,
    fingerprints: str = "",
    client_ids: str = "",
    jwks: str = "",
    issuance_limit_hours: int = 12,
    description: str = "",
) -> OIDCProvider:
    _check_name(name, "OIDCProviderName")
    require(actor, "ram:CreateOIDCProvider", f"acs:ram:*:{actor.account_uid}:oidc-provider/{name}")
    provider = OIDCProvider(
        account_id=actor.account_id,
        name=name,
        issuer_url=_check_issuer(issuer_url),
        fingerprints=",".join(
            _split(fingerprints, FINGERPRINT_RE, "Fingerprints", MAX_FINGERPRINTS)
        ),
        client_ids=",".join(_split(client_ids, CLIENT_ID_RE, "ClientIds", MAX_CLIENT_IDS)),
        jwks=check_jwks(jwks) if jwks else "",
        issuance_limit_hours=_check_hours(issuance_limit_hours),
        description=_check_description(description),
    )
    if not provider.fingerprints and not provider.jwks:
        raise InvalidParameter(
            "MissingParameter.Fingerprints",
            "Give the provider's certificate Fingerprints or its signing keys (JWKS).",
        )
    if OIDCProvider.objects.filter(account_id=actor.account_id).count() >= PROVIDERS_PER_ACCOUNT:
        raise Conflict("LimitExceeded.OIDCProvider", "An account can have at most 100 providers.")
    try:
        with transaction.atomic():
            provider.save()
            provider = OIDCProvider.objects.select_related("account").get(pk=provider.pk)
            event_record(
                actor=actor,
                action="ram:CreateOIDCProvider",
                target_arn=provider.arn,
                details=_snapshot(provider),
            )
    except IntegrityError as exc:
        raise Conflict(
            "EntityAlreadyExists.OIDCProvider", f"The OIDC provider {name} does already exist."
        ) from exc
    return provider


def _check_hours(hours: int) -> int:
    if not 1 <= hours <= 168:
        raise InvalidParameter(
            "InvalidParameter.IssuanceLimitTime", "IssuanceLimitTime is 1 to 168 hours."
        )
    return hours


def _check_description(text: str) -> str:
    if len(text) > 256:
        raise InvalidParameter("InvalidParameter.Description.Length", "At most 256 characters.")
    return text


def oidc_provider_update(
    *,
    actor: Principal,
    provider: OIDCProvider,
    action: str = "ram:UpdateOIDCProvider",
    issuer_url: str | None = None,
    fingerprints: list[str] | None = None,
    client_ids: list[str] | None = None,
    jwks: str | None = None,
    issuance_limit_hours: int | None = None,
    description: str | None = None,
) -> OIDCProvider:
    """Change a provider; `action` names the API that asked (Add/RemoveClientId… share it)."""
    require(actor, action, provider.resource_arn)
    before = _snapshot(provider)
    if issuer_url is not None:
        provider.issuer_url = _check_issuer(issuer_url)
    if fingerprints is not None:
        joined = ",".join(fingerprints)
        provider.fingerprints = ",".join(
            _split(joined, FINGERPRINT_RE, "Fingerprints", MAX_FINGERPRINTS)
        )
    if client_ids is not None:
        provider.client_ids = ",".join(
            _split(",".join(client_ids), CLIENT_ID_RE, "ClientIds", MAX_CLIENT_IDS)
        )
    if jwks is not None:
        provider.jwks = check_jwks(jwks) if jwks else ""
    if issuance_limit_hours is not None:
        provider.issuance_limit_hours = _check_hours(issuance_limit_hours)
    if description is not None:
        provider.description = _check_description(description)
    if not provider.fingerprints and not provider.jwks:
        raise InvalidParameter(
            "InvalidParameter.Fingerprints",
            "A provider needs certificate Fingerprints or its signing keys (JWKS).",
        )
    with transaction.atomic():
        provider.save()
        event_record(
            actor=actor,
            action=action,
            target_arn=provider.arn,
            details=changes(before, _snapshot(provider)),
        )
    return provider


def provider_delete(*, actor: Principal, provider: OIDCProvider | SAMLProvider) -> None:
    """Delete a SAML or OIDC provider (roles trusting it stop accepting it at once)."""
    kind = "SAML" if isinstance(provider, SAMLProvider) else "OIDC"
    action = f"ram:Delete{kind}Provider"
    require(actor, action, provider.resource_arn)
    with transaction.atomic():
        type(provider).objects.filter(pk=provider.pk).delete()
        event_record(actor=actor, action=action, target_arn=provider.arn)


def oidc_provider_delete(*, actor: Principal, provider: OIDCProvider) -> None:
    provider_delete(actor=actor, provider=provider)


def _for_actor(model: Any, kind: str, actor: Principal, name: str, action: str) -> Any:
    """A provider of the actor's account by name: 404 when absent, 403 when not permitted."""
    found = model.objects.select_related("account").filter(
        account_id=actor.account_id, name__lower=(name or "").lower()
    )
    provider = next(iter(found[:1]), None)
    if provider is None:
        raise NotFound(
            f"EntityNotExist.{kind}Provider", f"The {kind} provider does not exist: {name}."
        )
    require(actor, action, provider.resource_arn)
    return provider


def oidc_provider_for_actor(
    actor: Principal, name: str, action: str = "ram:GetOIDCProvider"
) -> OIDCProvider:
    return _for_actor(OIDCProvider, "OIDC", actor, name, action)


def saml_provider_create(
    *,
    actor: Principal,
    name: str,
    metadata: str,
    description: str = "",
    authn_sign_algo: str = "rsa-sha256",
) -> SAMLProvider:
    from federation.saml import metadata_entity_id

    _check_name(name, "SAMLProviderName")
    require(actor, "ram:CreateSAMLProvider", f"acs:ram:*:{actor.account_uid}:saml-provider/{name}")
    provider = SAMLProvider(
        account_id=actor.account_id,
        name=name,
        metadata=metadata,
        entity_id=metadata_entity_id(metadata),
        description=_check_description(description),
        authn_sign_algo=_check_algo(authn_sign_algo),
    )
    if SAMLProvider.objects.filter(account_id=actor.account_id).count() >= PROVIDERS_PER_ACCOUNT:
        raise Conflict("LimitExceeded.SAMLProvider", "An account can have at most 100 providers.")
    try:
        with transaction.atomic():
            provider.save()
            provider = SAMLProvider.objects.select_related("account").get(pk=provider.pk)
            event_record(
                actor=actor,
                action="ram:CreateSAMLProvider",
                target_arn=provider.arn,
                details={"entity_id": provider.entity_id, "description": description},
            )
    except IntegrityError as exc:
        raise Conflict(
            "EntityAlreadyExists.SAMLProvider", f"The SAML provider {name} does already exist."
        ) from exc
    return provider


def _check_algo(algo: str) -> str:
    if algo not in ("rsa-sha1", "rsa-sha256"):
        raise InvalidParameter("InvalidParameter.AuthnSignAlgo", "Use rsa-sha1 or rsa-sha256.")
    return algo


def saml_provider_update(
    *,
    actor: Principal,
    provider: SAMLProvider,
    metadata: str | None = None,
    description: str | None = None,
    authn_sign_algo: str | None = None,
) -> SAMLProvider:
    from federation.saml import metadata_entity_id

    require(actor, "ram:UpdateSAMLProvider", provider.resource_arn)
    before = {"entity_id": provider.entity_id, "description": provider.description}
    if metadata is not None:
        provider.entity_id = metadata_entity_id(metadata)
        provider.metadata = metadata
    if description is not None:
        provider.description = _check_description(description)
    if authn_sign_algo is not None:
        provider.authn_sign_algo = _check_algo(authn_sign_algo)
    with transaction.atomic():
        provider.save()
        after = {"entity_id": provider.entity_id, "description": provider.description}
        event_record(
            actor=actor,
            action="ram:UpdateSAMLProvider",
            target_arn=provider.arn,
            details={**changes(before, after), "metadata_replaced": metadata is not None},
        )
    return provider


def saml_provider_delete(*, actor: Principal, provider: SAMLProvider) -> None:
    provider_delete(actor=actor, provider=provider)


def saml_provider_for_actor(
    actor: Principal, name: str, action: str = "ram:GetSAMLProvider"
) -> SAMLProvider:
    return _for_actor(SAMLProvider, "SAML", actor, name, action)


def provider_by_arn(model: Any, pattern: re.Pattern[str], arn: str, param: str) -> Any:
    """The provider an ARN names (any account: the ARN carries the uid), or None."""
    match = pattern.match(arn or "")
    if not match:
        raise InvalidParameter(
            f"InvalidParameter.{param}", f"The parameter {param} is wrongly formed."
        )
    uid, name = match.groups()
    return (
        model.objects.select_related("account")
        .filter(account__uid=uid, name__lower=name.lower())
        .first()
    )
