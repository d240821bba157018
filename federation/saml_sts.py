"""AssumeRoleWithSAML: a SAML response from a registered provider, addressed to the role-SSO
service provider, buys a session of a role the assertion grants.

The assertion grants roles through the attribute
`https://www.aliyun.com/SAML-Role/Attributes/Role` (values `<role ARN>,<provider ARN>`), names
the session with `…/RoleSessionName` and may cap it with `…/SessionDuration`. The role's trust
policy must name the provider under `Federated`; conditions see saml:recipient, saml:iss and
saml:sub.
"""

from __future__ import annotations

import re

from accounts.errors import IamError, InvalidParameter, NotFound
from audit.services import event_record
from federation.models import SAMLProvider
from federation.saml import (
    ROLE_ATTRIBUTE,
    SESSION_ATTRIBUTE,
    SESSION_DURATION_ATTRIBUTE,
    SamlIdentity,
    SamlRejected,
    ServiceProvider,
    accept_once,
    role_sp,
    verify_response,
)
from policies.engine import Effect
from policies.principal import Principal, RequestMeta
from roles.models import Role
from roles.trust import parse_trust_policy, trust_decision
from sts import services as sts
from sts.services import Credentials

PROVIDER_ARN_RE = re.compile(r"^acs:ram::(\d{16}):saml-provider/([A-Za-z0-9._-]{1,128})$")
UNSAFE = re.compile(r"[^A-Za-z0-9.@_-]")


def find_saml_provider(arn: str) -> SAMLProvider:
    from federation.services import provider_by_arn

    provider = provider_by_arn(SAMLProvider, PROVIDER_ARN_RE, arn, "SAMLProviderArn")
    if provider is None:
        raise NotFound("EntityNotExist.SAMLProvider", "The specified SAMLProvider not exists.")
    return provider


def granted_roles(identity: SamlIdentity, provider: SAMLProvider) -> list[str]:
    """Role ARNs the assertion grants through this provider (pairs in either order)."""
    roles = []
    for value in identity.attributes.get(ROLE_ATTRIBUTE, []):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            continue
        role_arn = next((p for p in parts if ":role/" in p), "")
        provider_arn = next((p for p in parts if ":saml-provider/" in p), "")
        if role_arn and provider_arn.lower() == provider.arn.lower():
            roles.append(role_arn)
    return roles


def verify_for_provider(
    provider: SAMLProvider, encoded: str, sp: ServiceProvider, meta: RequestMeta, action: str
) -> SamlIdentity:
    """Verify, and record a refusal in the provider's account."""
    try:
        identity = verify_response(encoded, provider.metadata, sp)
        if identity.issuer != provider.entity_id:
            raise SamlRejected(
                "AuthenticationFail.SAMLAssertion.Invalid",
                "The response's issuer is not the provider's entity.",
            )
        if not identity.subject:
            raise SamlRejected("AuthenticationFail.SAMLAssertion.Invalid", "No NameID.")
    except SamlRejected as exc:
        event_record(
            action=action,
            account=provider.account_id,
            actor_arn=provider.arn,
            actor_kind="federated",
            meta=meta,
            outcome="denied",
            error_code=exc.code,
            details={"reason": exc.message},
        )
        raise
    return identity


def saml_principal(provider: SAMLProvider, identity: SamlIdentity, meta: RequestMeta) -> Principal:
    return Principal(
        account_id=provider.account_id,
        account_uid=provider.account.uid,
        kind="federated",
        arn=provider.arn,
        name=identity.subject[:64],
        user_pk=None,
        authz_version=provider.account.authz_version,
        credential=f"saml-assertion:{identity.assertion_id[:40]}",
        meta=meta,
    )


def session_name_of(identity: SamlIdentity) -> str:
    name = identity.first(SESSION_ATTRIBUTE) or UNSAFE.sub("-", identity.subject)
    name = name[:64]
    if not sts.SESSION_NAME_RE.match(name):
        raise InvalidParameter(
            "InvalidParameter.RoleSessionName",
            "The assertion's RoleSessionName is 2 to 64 letters, digits or . @ _ -.",
        )
    return name


def issue_for_assertion(
    *,
    provider: SAMLProvider,
    role: Role,
    identity: SamlIdentity,
    sp: ServiceProvider,
    meta: RequestMeta,
    duration: int | None,
    policy: str = "",
    action: str = "sts:AssumeRoleWithSAML",
    consume: bool = True,
) -> Credentials:
    """The checks every role-SSO path shares: granted, trusted, fresh; then issue. Console role
    SSO consumed the assertion when it was posted (`consume=False` for its second step)."""
    actor = saml_principal(provider, identity, meta)
    details = {
        "issuer": identity.issuer,
        "subject": identity.subject,
        "assertion": identity.assertion_id,
        "recipient": identity.recipient,
    }
    granted = any(arn.lower() == role.arn.lower() for arn in granted_roles(identity, provider))
    context = {
        **actor.context(),
        "saml:recipient": identity.recipient,
        "saml:iss": identity.issuer,
        "saml:sub": identity.subject,
    }
    trust = trust_decision(parse_trust_policy(role.trust_policy), actor, context)
    same_account = role.account_id == provider.account_id
    if not granted or not same_account or trust is not Effect.ALLOW:
        event_record(
            actor=actor,
            action=action,
            target_arn=role.arn,
            outcome="denied",
            error_code="NoPermission",
            details={**details, "granted": granted, "trust": trust.value},
        )
        why = (
            "the assertion does not grant this role"
            if not granted
            else ("its trust policy doesn't trust this provider and assertion")
        )
        raise IamError(
            "NoPermission",
            f"You are not authorized to do this action. You should be authorized by RAM: {why} "
            f"({role.arn}).",
            status=403,
        )
    if duration is None:
        attribute = identity.first(SESSION_DURATION_ATTRIBUTE)
        duration = int(attribute) if attribute.isdigit() else None
    seconds = sts._duration(actor, role, duration)
    canonical_policy = sts._session_policy(policy)
    session_name = session_name_of(identity)
    if consume:
        accept_once(identity)
    return sts._issue(
        actor, role, session_name, seconds, canonical_policy, action=action, extra=details
    )


def assume_role_with_saml(
    *,
    provider_arn: str,
    role_arn: str,
    assertion: str,
    policy: str = "",
    duration: int | None = None,
    meta: RequestMeta,
) -> tuple[Credentials, SamlIdentity]:
    provider = find_saml_provider(provider_arn)
    role = sts._find_role(role_arn)
    sp = role_sp()
    identity = verify_for_provider(provider, assertion, sp, meta, "sts:AssumeRoleWithSAML")
    creds = issue_for_assertion(
        provider=provider,
        role=role,
        identity=identity,
        sp=sp,
        meta=meta,
        duration=duration,
        policy=policy,
    )
    return creds, identity
