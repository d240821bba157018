"""User SSO: RAM users of an account sign in to the console through its SAML identity provider.

The IdP posts a signed response to the account's ACS URL (IdP-initiated, or after our
AuthnRequest). The NameID — or a chosen attribute — names the RAM user: `name`, or
`name@<logon domain>` / `name@<auxiliary domain>`. Unknown users are refused unless the
administrator turned provisioning on. With SSO on, password sign-in can be turned off for RAM
users; root keeps its password and MFA as the break-glass way in.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from accounts.errors import IamError, InvalidParameter
from accounts.models import Account, User
from audit.services import changes, event_record
from federation.models import UserSsoSettings
from federation.saml import SamlIdentity, SamlRejected, accept_once, user_sp, verify_response
from policies.guards import require
from policies.principal import Principal, RequestMeta


def sso_settings_of(account_id: int) -> UserSsoSettings:
    """The account's settings (an unsaved default until they are first set: reads write nothing)."""
    found = UserSsoSettings.objects.filter(account_id=account_id).first()
    return found or UserSsoSettings(account_id=account_id)


def password_login_allowed(user: User) -> bool:
    if user.is_root:
        return True  # break-glass
    sso = UserSsoSettings.objects.filter(account_id=user.account_id).first()
    return not (sso and sso.enabled and sso.password_login_disabled)


def _snapshot(sso: UserSsoSettings) -> dict:
    return {
        "enabled": sso.enabled,
        "idp_entity_id": sso.idp_entity_id,
        "login_attribute": sso.login_attribute,
        "auxiliary_domain": sso.auxiliary_domain,
        "provisioning": sso.provisioning,
        "password_login_disabled": sso.password_login_disabled,
    }


def user_sso_set(
    *,
    actor: Principal,
    enabled: bool | None = None,
    metadata: str | None = None,
    login_attribute: str | None = None,
    auxiliary_domain: str | None = None,
    provisioning: bool | None = None,
    password_login_disabled: bool | None = None,
) -> UserSsoSettings:
    from federation.saml import metadata_entity_id

    require(actor, "ram:SetUserSsoSettings", f"acs:ram:*:{actor.account_uid}:*")
    sso = sso_settings_of(actor.account_id)
    before = _snapshot(sso)
    if metadata is not None and metadata.strip():
        sso.idp_entity_id = metadata_entity_id(metadata)
        sso.metadata = metadata
    if login_attribute is not None:
        if len(login_attribute) > 256:
            raise InvalidParameter("InvalidParameter.LoginAttribute", "At most 256 characters.")
        sso.login_attribute = login_attribute.strip()
    if auxiliary_domain is not None:
        domain = auxiliary_domain.strip().lower()
        if domain and (len(domain) > 128 or "." not in domain or "@" in domain):
            raise InvalidParameter("InvalidParameter.AuxiliaryDomain", "Give a domain name.")
        sso.auxiliary_domain = domain
    if provisioning is not None:
        sso.provisioning = provisioning
    if password_login_disabled is not None:
        sso.password_login_disabled = password_login_disabled
    if enabled is not None:
        sso.enabled = enabled
    if sso.enabled and not sso.metadata:
        raise InvalidParameter(
            "MissingMetadataDocument", "Upload the identity provider's metadata to enable SSO."
        )
    with transaction.atomic():
        sso.save()
        event_record(
            actor=actor,
            action="ram:SetUserSsoSettings",
            target_arn=f"acs:ram::{actor.account_uid}:root",
            details={**changes(before, _snapshot(sso)), "metadata_replaced": bool(metadata)},
        )
    return sso


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    identity: SamlIdentity
    provisioned: bool


def _login_name(sso: UserSsoSettings, account: Account, identity: SamlIdentity) -> str:
    raw = identity.first(sso.login_attribute) if sso.login_attribute else identity.subject
    raw = raw.strip()
    if "@" not in raw:
        return raw
    name, domain = raw.rsplit("@", 1)
    domain = domain.lower()
    allowed = {
        f"{account.alias}.{settings.IAM_LOGON_DOMAIN}".lower(),
        f"{account.uid}.{settings.IAM_LOGON_DOMAIN}".lower(),
    }
    if sso.auxiliary_domain:
        allowed.add(sso.auxiliary_domain)
    if domain not in allowed:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.UserNotMatch",
            f"The login name's domain {domain!r} is not this account's.",
        )
    return name


def _refuse(account: Account, meta: RequestMeta, code: str, reason: str, **details: str) -> None:
    event_record(
        action="console:Login",
        account=account,
        meta=meta,
        outcome="error",
        error_code=code,
        details={"method": "saml", "reason": reason, **details},
    )


def sso_sign_in(
    *, account_uid: str, encoded: str, meta: RequestMeta, outstanding: Collection[str] = ()
) -> SsoSignIn:
    """Verify a response posted to the account's ACS and find (or provision) its RAM user.
    `outstanding`: the IDs of this browser's unanswered AuthnRequests to the account's IdP."""
    account = Account.objects.filter(uid=account_uid).first()
    sso = UserSsoSettings.objects.filter(account=account).first() if account else None
    if account is None or sso is None or not sso.enabled:
        raise IamError(
            "SsoNotEnabled", "Single sign-on is not enabled for this account.", status=404
        )
    try:
        identity = verify_response(
            encoded, sso.metadata, user_sp(account.uid), outstanding=outstanding
        )
        if identity.issuer != sso.idp_entity_id:
            raise SamlRejected("AuthenticationFail.SAMLAssertion.Invalid", "Unknown issuer.")
        name = _login_name(sso, account, identity)
        accept_once(identity)
    except SamlRejected as exc:
        _refuse(account, meta, exc.code, exc.message)
        raise
    details = {
        "idp": identity.issuer,
        "assertion": identity.assertion_id,
        "subject": identity.subject,
    }
    user = User.objects.filter(account=account, kind="user", name__iexact=name).first()
    provisioned = False
    if user is None:
        if not sso.provisioning:
            _refuse(account, meta, "UnknownUser", "unknown_user", login=name[:64], **details)
            raise SamlRejected(
                "AuthenticationFail.SAMLAssertion.UserNotMatch",
                f"There is no RAM user {name!r} in this account; ask an administrator.",
            )
        user = _provision(account, name, meta, details)
        provisioned = True
    from accounts.login import network_allowed

    if not network_allowed(user, meta):  # LoginNetworkMasks govern SSO sign-in too
        _refuse(account, meta, "LoginFailed", "network_not_allowed", login=name[:64], **details)
        raise SamlRejected(
            "AuthenticationFail.NetworkNotAllowed",
            f"Console sign-in is not allowed from your network ({meta.source_ip}).",
        )
    if not user.console_access or user.locked_down_at is not None:
        _refuse(account, meta, "LoginFailed", "no_console_access", login=name[:64], **details)
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.UserNotMatch",
            f"{name} may not sign in to the console; ask an administrator.",
        )
    event_record(
        action="console:Login",
        account=account,
        actor_arn=user.arn,
        actor_kind=user.kind,
        meta=meta,
        details={"method": "saml", "provisioned": provisioned, **details},
    )
    return SsoSignIn(user, identity, provisioned)


def _provision(account: Account, name: str, meta: RequestMeta, details: dict) -> User:
    from accounts.selectors import principal_for_user
    from accounts.services import user_create
    from accounts.validation import check_name

    try:
        check_name(name)
    except InvalidParameter as exc:
        raise SamlRejected(
            "AuthenticationFail.SAMLAssertion.UserNotMatch",
            f"{name!r} can't be a RAM user name: {exc.message}",
        ) from exc
    root = User.objects.select_related("account").get(account=account, kind="root")
    system = principal_for_user(root, credential="saml-provisioning", meta=meta)
    with transaction.atomic():
        user = user_create(actor=system, name=name, display_name=name)
        User.objects.filter(pk=user.pk).update(console_access=True)
        event_record(
            action="console:ProvisionUser",
            account=account,
            actor_arn=details["idp"][:512],
            actor_kind="federated",
            meta=meta,
            target_arn=user.arn,
            details=details,
        )
    return User.objects.select_related("account").get(pk=user.pk)
