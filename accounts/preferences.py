"""Account-wide settings: the security preference and the account alias."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import IntegrityError, transaction

from accounts.arns import account_resource
from accounts.errors import Conflict, InvalidParameter
from accounts.models import Account, SecurityPreference
from accounts.validation import check_alias
from audit.services import changes, event_record
from policies.guards import require
from policies.principal import Principal

PREFERENCE_FIELDS = (
    "enable_save_mfa_ticket",
    "allow_user_to_change_password",
    "allow_user_to_manage_access_keys",
    "allow_user_to_manage_mfa_devices",
    "login_session_duration",
    "login_network_masks",
    "mfa_requirement",
)


def security_preference_of(account_id: int) -> SecurityPreference:
    """The preference, created with Alibaba's defaults for accounts that predate it."""
    preference, _ = SecurityPreference.objects.get_or_create(account_id=account_id)
    return preference


def _check_masks(masks: str) -> str:
    entries = [m.strip() for m in masks.split(";") if m.strip()]
    if len(masks) > 512 or len(entries) > 40:
        raise InvalidParameter(
            "InvalidParameter.LoginNetworkMasks",
            "LoginNetworkMasks takes at most 40 masks and 512 characters.",
        )
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise InvalidParameter(
                "InvalidParameter.LoginNetworkMasks", f"{entry!r} is not an IP address or CIDR."
            ) from exc
    return ";".join(entries)


def security_preference_set(*, actor: Principal, **values: Any) -> SecurityPreference:
    require(actor, "ram:SetSecurityPreference", account_resource(actor.account_uid))
    preference = security_preference_of(actor.account_id)
    before = {field: getattr(preference, field) for field in PREFERENCE_FIELDS}
    for field, value in values.items():
        if field not in PREFERENCE_FIELDS:
            raise InvalidParameter("InvalidParameter", f"Unknown preference {field}.")
        if field == "login_session_duration" and not 1 <= int(value) <= 24:
            raise InvalidParameter(
                "InvalidParameter.LoginSessionDuration", "LoginSessionDuration is 1 to 24 hours."
            )
        if field == "mfa_requirement" and value not in ("off", "admins", "all"):
            raise InvalidParameter(
                "InvalidParameter.MFARequirement", "The MFA requirement is off, admins or all."
            )
        if field == "login_network_masks":
            value = _check_masks(value)
        setattr(preference, field, value)
    after = {field: getattr(preference, field) for field in PREFERENCE_FIELDS}
    with transaction.atomic():
        preference.save()
        event_record(
            actor=actor,
            action="ram:SetSecurityPreference",
            target_arn=account_resource(actor.account_uid),
            details=changes(before, after),
        )
    return preference


def account_alias(account_id: int) -> str:
    """The alias; an account without one answers with '' (its logins use the uid)."""
    account = Account.objects.get(pk=account_id)
    return "" if account.alias == account.uid else account.alias


def account_alias_set(*, actor: Principal, alias: str) -> None:
    """Set the alias (SetAccountAlias), or clear it with '' (ClearAccountAlias).

    RAM users' login names follow the alias; without one they are name@<uid>.<domain>.
    """
    action = "ram:SetAccountAlias" if alias else "ram:ClearAccountAlias"
    require(actor, action, account_resource(actor.account_uid))
    account = Account.objects.get(pk=actor.account_id)
    new = check_alias(alias) if alias else account.uid
    if (
        new != account.uid
        and Account.objects.filter(alias__iexact=new).exclude(pk=account.pk).exists()
    ):
        raise Conflict("EntityAlreadyExists.AccountAlias", f"The alias {alias} is taken.")
    before = account.alias
    try:
        with transaction.atomic():
            Account.objects.filter(pk=account.pk).update(alias=new)
            event_record(
                actor=actor,
                action=action,
                target_arn=account.root_arn,
                details={"before": before, "after": "" if new == account.uid else new},
            )
    except IntegrityError as exc:
        raise Conflict("EntityAlreadyExists.AccountAlias", f"The alias {alias} is taken.") from exc
