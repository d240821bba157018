"""Writes for accounts, RAM users, login profiles, passwords and the password policy.

Each function checks permission first (so a denial is audited even though nothing changes),
then writes the change and its audit event in one transaction.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.arns import account_resource, ram_resource
from accounts.errors import Conflict, InvalidParameter, NotFound
from accounts.ids import numeric_id
from accounts.models import Account, PasswordHistory, PasswordPolicy, SecurityPreference, User
from accounts.passwords import password_problems, reuses_recent_password
from accounts.preferences import security_preference_of
from accounts.validation import (
    check_alias,
    check_email,
    check_mobile,
    check_name,
    check_text,
)
from audit.services import changes, event_record
from policies.guards import refuse, require
from policies.principal import Principal, RequestMeta

USER_FIELDS = ("display_name", "email", "mobile_phone", "comments")


def policy_of(owner: User | Account) -> PasswordPolicy:
    """The password policy, read fresh: it may have changed since `owner` was loaded."""
    account_id = owner.pk if isinstance(owner, Account) else owner.account_id
    return PasswordPolicy.objects.get(account_id=account_id)


def authz_version_bump(account_id: int) -> None:
    """Invalidate every compiled policy set of the account, on every node, next request."""
    Account.objects.filter(pk=account_id).update(authz_version=F("authz_version") + 1)


def generate_password() -> str:
    """A random password that satisfies any policy this product allows (length ≤ 32)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    core = "".join(secrets.choice(alphabet) for _ in range(28))
    return core[:7] + "a" + core[7:14] + "Z" + core[14:21] + "7" + core[21:] + "#"


def _apply_password(user: User, policy: PasswordPolicy, password: str) -> None:
    """Validate against the policy and history, then set the hash and record history."""
    words = (user.name, user.account.alias, user.display_name, user.email.split("@")[0])
    problems = password_problems(policy, password, context_words=words)
    if not problems and user.pk and reuses_recent_password(user, policy, password):
        problems.append(
            f"Don't reuse any of your last {policy.password_reuse_prevention} passwords."
        )
    if problems:
        raise InvalidParameter(
            "InvalidParameter.Password.TooWeak",
            "The password is not compliant with the password policy: " + " ".join(problems),
        )
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.failed_login_count = 0
    user.failed_login_window_start = None
    user.locked_until = None


def _save_history(user: User) -> None:
    PasswordHistory.objects.create(user=user, password=user.password)
    keep = list(user.password_history.values_list("id", flat=True)[:24])
    user.password_history.exclude(id__in=keep).delete()


def account_create(
    *, alias: str, email: str, password: str | None = None, meta: RequestMeta | None = None
) -> tuple[Account, User, str]:
    """Create an account, its password policy and its root identity; return the root password."""
    check_alias(alias)
    check_email(email)
    if not email:
        raise InvalidParameter("MissingEmail", "An email address is required for the root.")
    if Account.objects.filter(alias__iexact=alias).exists():
        raise Conflict("EntityAlreadyExists.AccountAlias", f"The alias {alias} is taken.")
    if User.objects.filter(kind=User.Kind.ROOT, email__iexact=email).exists():
        raise Conflict("EntityAlreadyExists.User", f"A root with email {email} already exists.")
    password = password or generate_password()
    with transaction.atomic():
        account = Account.objects.create(uid=numeric_id(16), alias=alias)
        policy = PasswordPolicy.objects.create(account=account)
        SecurityPreference.objects.create(account=account)
        root = User(
            account=account,
            kind=User.Kind.ROOT,
            user_id=account.uid,
            name="root",
            email=email,
            console_access=True,
            login_profile_created_at=timezone.now(),
        )
        _apply_password(root, policy, password)
        root.save()
        _save_history(root)
        event_record(
            action="console:CreateAccount",
            account=account,
            actor_arn=account.root_arn,
            actor_kind="root",
            meta=meta,
            target_arn=account.root_arn,
            details={"alias": alias},
        )
    return account, root, password


def _check_user_fields(fields: dict[str, str]) -> None:
    check_text(fields.get("display_name", ""), "DisplayName")
    check_text(fields.get("comments", ""), "Comments")
    check_email(fields.get("email", ""))
    check_mobile(fields.get("mobile_phone", ""))


def user_create(
    *,
    actor: Principal,
    name: str,
    console_access: bool = False,
    programmatic_access: bool = False,
    password: str = "",
    password_reset_required: bool = False,
    mfa_bind_required: bool = False,
    **fields: str,
) -> User:
    """Create a RAM user; with console access its password must satisfy the policy."""
    check_name(name)
    require(actor, "ram:CreateUser", ram_resource(actor.account_uid, "user", name))
    _check_user_fields(fields)
    account = Account.objects.get(pk=actor.account_id)
    if User.objects.filter(account=account, name__iexact=name).exists():
        raise Conflict("EntityAlreadyExists.User", f"The user {name} does already exist.")
    limit = settings.IAM_LIMITS["users_per_account"]
    if User.objects.filter(account=account, kind=User.Kind.RAM_USER).count() >= limit:
        raise Conflict("LimitExceeded.User", f"An account can have at most {limit} RAM users.")
    user = User(
        account=account,
        user_id=numeric_id(16),
        name=name,
        programmatic_access=programmatic_access,
        **{key: fields.get(key, "") for key in USER_FIELDS},
    )
    if console_access:
        _grant_console(
            user, policy_of(account), password, password_reset_required, mfa_bind_required
        )
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            if console_access:
                _save_history(user)
            event_record(
                actor=actor,
                action="ram:CreateUser",
                target_arn=user.arn,
                details={"access_mode": user.access_mode, **fields},
            )
    except IntegrityError as exc:
        raise Conflict("EntityAlreadyExists.User", f"The user {name} does already exist.") from exc
    return user


def _grant_console(
    user: User, policy: PasswordPolicy, password: str, reset_required: bool, mfa_required: bool
) -> None:
    if not password:
        raise InvalidParameter("MissingPassword", "Password is mandatory for console access.")
    _apply_password(user, policy, password)
    user.console_access = True
    user.password_reset_required = reset_required
    user.mfa_bind_required = mfa_required
    user.login_profile_created_at = timezone.now()


def user_update(*, actor: Principal, user: User, new_name: str = "", **updates: Any) -> User:
    """Rename a user or change its profile fields or access flags; audited with before/after."""
    require(actor, "ram:UpdateUser", user.resource_arn)
    _check_user_fields(updates)
    before = {key: getattr(user, key) for key in (*USER_FIELDS, "name", "programmatic_access")}
    if new_name and new_name != user.name:
        check_name(new_name, "NewUserName")
        clash = User.objects.filter(account_id=user.account_id, name__iexact=new_name)
        if clash.exclude(pk=user.pk).exists():
            raise Conflict("EntityAlreadyExists.User", f"The user {new_name} does already exist.")
        user.name = new_name
    for key in (*USER_FIELDS, "programmatic_access"):
        if key in updates:
            setattr(user, key, updates[key])
    after = {key: getattr(user, key) for key in before}
    with transaction.atomic():
        user.save()
        if before["name"] != after["name"]:
            authz_version_bump(user.account_id)
        event_record(
            actor=actor,
            action="ram:UpdateUser",
            target_arn=user.arn,
            details=changes(before, after),
        )
    return user


def user_delete(*, actor: Principal, user: User, force: bool = False) -> None:
    """Delete a RAM user. Without force, refuse while groups, policies or a login profile remain."""
    require(actor, "ram:DeleteUser", user.resource_arn)
    if user.is_root:
        raise InvalidParameter("InvalidParameter.UserName", "The root identity can't be deleted.")
    if not force:
        conflicts = [
            ("DeleteConflict.User.Group", user.group_memberships.exists(), "is in groups"),
            ("DeleteConflict.User.Policy", user.policy_attachments.exists(), "has policies"),
            ("DeleteConflict.User.LoginProfile", user.console_access, "has console access"),
        ]
        for code, present, why in conflicts:
            if present:
                raise Conflict(code, f"The user {user.name} {why}; remove them first.")
    arn = user.arn
    with transaction.atomic():
        details = {
            "groups": list(user.group_memberships.values_list("group__name", flat=True)),
            "policies": list(user.policy_attachments.values_list("policy__name", flat=True)),
            "console_access": user.console_access,
        }
        user.delete()
        authz_version_bump(actor.account_id)
        event_record(actor=actor, action="ram:DeleteUser", target_arn=arn, details=details)


def login_profile_set(
    *,
    actor: Principal,
    user: User,
    password: str = "",
    password_reset_required: bool | None = None,
    mfa_bind_required: bool | None = None,
) -> User:
    """Give a user console access, or change its password and flags (Create/UpdateLoginProfile)."""
    creating = not user.console_access
    action = "ram:CreateLoginProfile" if creating else "ram:UpdateLoginProfile"
    require(actor, action, user.resource_arn)
    if user.is_root:
        raise InvalidParameter("InvalidParameter.UserName", "Root manages its own password.")
    policy = policy_of(user)
    if creating:
        _grant_console(
            user, policy, password, bool(password_reset_required), bool(mfa_bind_required)
        )
        user.locked_down_at = None  # giving console access back ends a lockdown
        user.lockdown_reason = ""
    else:
        if password:
            _apply_password(user, policy, password)
        if password_reset_required is not None:
            user.password_reset_required = password_reset_required
        if mfa_bind_required is not None:
            user.mfa_bind_required = mfa_bind_required
    with transaction.atomic():
        user.save()
        if password:
            _save_history(user)
        event_record(
            actor=actor,
            action=action,
            target_arn=user.arn,
            details={
                "password_changed": bool(password),
                "password_reset_required": user.password_reset_required,
                "mfa_bind_required": user.mfa_bind_required,
            },
        )
    return user


def login_profile_delete(*, actor: Principal, user: User) -> None:
    """Remove console access: the password becomes unusable and sessions end."""
    require(actor, "ram:DeleteLoginProfile", user.resource_arn)
    if not user.console_access:
        raise NotFound("EntityNotExist.User.LoginProfile", f"{user.name} has no console access.")
    user.console_access = False
    user.password_reset_required = False
    user.set_unusable_password()
    with transaction.atomic():
        user.save()
        event_record(actor=actor, action="ram:DeleteLoginProfile", target_arn=user.arn)


def password_change(*, actor: Principal, user: User, old_password: str, new_password: str) -> None:
    """A console identity changes its own password (ChangePassword)."""
    if actor.user_pk != user.pk:
        raise InvalidParameter("InvalidParameter", "You can only change your own password.")
    if (
        not user.is_root
        and not security_preference_of(user.account_id).allow_user_to_change_password
    ):
        refuse(
            actor,
            "ram:ChangePassword",
            user.arn,
            reason="AllowUserToChangePassword is off",
        )
    if not user.check_password(old_password):
        event_record(
            actor=actor,
            action="ram:ChangePassword",
            target_arn=user.arn,
            outcome="error",
            error_code="InvalidParameter.OldPassword",
        )
        raise InvalidParameter("InvalidParameter.OldPassword", "The current password is wrong.")
    if new_password == old_password:
        raise InvalidParameter(
            "InvalidParameter.Password.TooWeak", "The new password must differ from the current."
        )
    _apply_password(user, policy_of(user), new_password)
    user.password_reset_required = False
    with transaction.atomic():
        user.save()
        _save_history(user)
        event_record(actor=actor, action="ram:ChangePassword", target_arn=user.arn)


POLICY_FIELDS = (
    "minimum_password_length",
    "require_lowercase_characters",
    "require_uppercase_characters",
    "require_numbers",
    "require_symbols",
    "block_common_passwords",
    "hard_expiry",
    "max_password_age",
    "password_reuse_prevention",
    "max_login_attempts",
)
POLICY_RANGES = {
    "minimum_password_length": (8, 32),
    "max_password_age": (0, 1095),
    "password_reuse_prevention": (0, 24),
    "max_login_attempts": (0, 32),
}


def password_policy_set(*, actor: Principal, **values: Any) -> PasswordPolicy:
    """Change the account's password policy (SetPasswordPolicy)."""
    require(actor, "ram:SetPasswordPolicy", account_resource(actor.account_uid))
    policy = PasswordPolicy.objects.get(account_id=actor.account_id)
    before = {key: getattr(policy, key) for key in POLICY_FIELDS}
    for key, value in values.items():
        if key not in POLICY_FIELDS:
            raise InvalidParameter("InvalidParameter", f"Unknown password policy field {key}.")
        if key in POLICY_RANGES:
            low, high = POLICY_RANGES[key]
            if not low <= int(value) <= high:
                raise InvalidParameter(
                    f"InvalidParameter.{key}.Range", f"{key} must be between {low} and {high}."
                )
        setattr(policy, key, value)
    after = {key: getattr(policy, key) for key in POLICY_FIELDS}
    with transaction.atomic():
        policy.save()
        event_record(
            actor=actor,
            action="ram:SetPasswordPolicy",
            target_arn=account_resource(actor.account_uid),
            details=changes(before, after),
        )
    return policy
