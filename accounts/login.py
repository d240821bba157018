"""Console sign-in: resolve the login name, check the password under the account's lock rules,
step-up re-authentication, and the audit events of all three.

Every failure gets the same message and costs one password hash: an unknown or locked user is
checked against a dummy hash (never its own), so neither the answer nor its timing tells who
exists; every failure counts toward the per-address limit; failure counters are updated
atomically in single UPDATE statements.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.passwords import password_expired
from accounts.preferences import security_preference_of
from accounts.services import policy_of
from audit.services import event_record
from policies.principal import Principal, RequestMeta

LOGIN_FAILED = "The login name or password is incorrect, or the account is temporarily locked."
LOCK_WINDOW = timedelta(hours=1)
_DUMMY_HASH: list[str] = []


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str = ""
    must_change_password: bool = False


def resolve_login(identifier: str) -> User | None:
    """Find the identity behind a login name: name@alias.<domain> for RAM users, email for root."""
    identifier = identifier.strip()
    if "@" not in identifier or len(identifier) > 320:
        return None
    local, _, domain = identifier.rpartition("@")
    domain = domain.lower()
    suffix = "." + settings.IAM_LOGON_DOMAIN
    users = User.objects.select_related("account")
    if domain.endswith(suffix):
        tenant = domain[: -len(suffix)]
        return users.filter(
            Q(account__alias__iexact=tenant) | Q(account__uid=tenant),
            kind=User.Kind.RAM_USER,
            name__iexact=local,
        ).first()
    return users.filter(kind=User.Kind.ROOT, email__iexact=identifier).first()


def _burn_hash_time(password: str) -> None:
    """Run the hasher for unknown or locked users so timing does not reveal who exists."""
    from django.contrib.auth.hashers import check_password, make_password

    if len(password) > settings.IAM_PASSWORD_MAX_LENGTH:
        return  # refused before hashing for known users too
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password(secrets.token_urlsafe(16)))
    check_password(password, _DUMMY_HASH[0])


def reserve_attempt(user: User, now: Any) -> bool:
    """Take one of the hour's MaxLoginAttemps before checking a factor.

    One conditional UPDATE takes the slot, so concurrent attempts can never run more checks
    than the limit allows; False means none is left (the user is, or becomes, locked).
    """
    window_open = Q(failed_login_window_start__gte=now - LOCK_WINDOW)
    User.objects.filter(~window_open | Q(failed_login_window_start=None), pk=user.pk).update(
        failed_login_count=0, failed_login_window_start=now
    )
    limit = policy_of(user).max_login_attempts
    slots = User.objects.filter(Q(locked_until=None) | Q(locked_until__lte=now), pk=user.pk)
    if limit:
        slots = slots.filter(failed_login_count__lt=limit)
    if slots.update(failed_login_count=F("failed_login_count") + 1):
        return True
    _lock(user, now, limit)
    return False


def _lock(user: User, now: Any, limit: int) -> None:
    """Lock for an hour once the attempts are used up (audited once per lock)."""
    locked = User.objects.filter(
        Q(locked_until=None) | Q(locked_until__lte=now),
        pk=user.pk,
        failed_login_count__gte=limit,
    ).update(locked_until=now + LOCK_WINDOW, failed_login_count=0, failed_login_window_start=None)
    if locked:
        event_record(
            action="console:Lockout",
            account=user.account_id,
            actor_arn=user.arn,
            actor_kind=user.kind,
            target_arn=user.arn,
            outcome="denied",
            details={"attempts": limit, "minutes": 60},
        )


def record_failure(user: User, now: Any) -> None:
    """A failed second factor or step-up: it uses up an attempt like a wrong password."""
    limit = policy_of(user).max_login_attempts
    if reserve_attempt(user, now) and limit:
        _lock(user, now, limit)


def clear_failures(user: User) -> None:
    """A complete sign-in (all factors) disregards earlier failures."""
    User.objects.filter(pk=user.pk).update(
        failed_login_count=0, failed_login_window_start=None, locked_until=None
    )


class SignInUnavailable(Exception):
    """The per-address throttle's store (the cache) can't be reached: refuse, never check a
    password unthrottled."""


def _ip_key(meta: RequestMeta) -> str:
    return f"login-failures-ip:{meta.source_ip or 'unknown'}"


def ip_blocked(meta: RequestMeta) -> bool:
    """Too many failed sign-ins from this address in the last hour, across all users."""
    try:
        failures = cache.get(_ip_key(meta)) or 0
    except Exception as exc:  # any backend's outage (Redis, database cache)
        raise SignInUnavailable(type(exc).__name__) from exc
    return failures >= settings.IAM_LOGIN_FAILURES_PER_IP


def _count_ip_failure(meta: RequestMeta) -> None:
    key = _ip_key(meta)
    try:
        if not cache.add(key, 1, timeout=3600):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=3600)
    except Exception as exc:
        raise SignInUnavailable(type(exc).__name__) from exc


def network_allowed(user: User, meta: RequestMeta) -> bool:
    return address_allowed(user.account_id, meta)


def address_allowed(account_id: int, meta: RequestMeta) -> bool:
    """The account's LoginNetworkMasks (console, user SSO and role SSO sign-in)."""
    masks = security_preference_of(account_id).login_network_masks
    if not masks:
        return True
    try:
        address = ipaddress.ip_address(meta.source_ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(m, strict=False) for m in masks.split(";") if m)


def login_attempt(*, identifier: str, password: str, meta: RequestMeta) -> LoginResult:
    """Check a console login. Every failure gets the same message; each is audited.

    Raises SignInUnavailable when the per-address throttle can't be read or updated."""
    now = timezone.now()
    try:
        blocked = ip_blocked(meta)
    except SignInUnavailable:
        _login_event(None, meta, "error", "throttle_unavailable", identifier)
        raise
    if blocked:
        _login_event(None, meta, "error", "ip_rate_limited", identifier)
        return LoginResult(None, LOGIN_FAILED)
    user = resolve_login(identifier)
    if user is None or not user.console_access:
        reason = "unknown_user" if user is None else "no_console_access"
        return _refuse_unchecked(user, meta, password, reason, identifier)
    if (user.locked_until and user.locked_until > now) or not reserve_attempt(user, now):
        return _refuse_unchecked(user, meta, password, "locked", identifier)
    if len(password) > settings.IAM_PASSWORD_MAX_LENGTH or not user.check_password(password):
        _count_ip_failure(meta)
        limit = policy_of(user).max_login_attempts
        if limit:
            _lock(user, now, limit)
        _login_event(user, meta, "error", "wrong_password", identifier)
        return LoginResult(None, LOGIN_FAILED)
    # Told only to someone who knew the password: no hint about which users exist.
    if not _password_login_allowed(user):
        _login_event(user, meta, "error", "sso_required", identifier)
        return LoginResult(
            None, "This account signs in through its identity provider: use single sign-on."
        )
    policy = policy_of(user)
    expired = password_expired(user, policy)
    if expired and policy.hard_expiry:
        _login_event(user, meta, "error", "password_expired", identifier)
        return LoginResult(None, "Your password has expired. Ask an administrator to reset it.")
    if not network_allowed(user, meta):
        _login_event(user, meta, "error", "network_not_allowed", identifier)
        return LoginResult(
            None,
            "Console sign-in is not allowed from your network "
            f"({meta.source_ip}). Ask an administrator.",
        )
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        clear_failures(user)  # with MFA, only the second factor completes the sign-in
    _login_event(user, meta, "success", "", identifier)
    return LoginResult(user, must_change_password=expired or user.password_reset_required)


def _refuse_unchecked(
    user: User | None, meta: RequestMeta, password: str, reason: str, identifier: str
) -> LoginResult:
    """Refuse without checking the user's password, at the cost and count of a wrong one."""
    _count_ip_failure(meta)
    _burn_hash_time(password)
    _login_event(user, meta, "error", reason, identifier)
    return LoginResult(None, LOGIN_FAILED)


def _password_login_allowed(user: User) -> bool:
    from federation.user_sso import password_login_allowed

    return password_login_allowed(user)


def _login_event(
    user: User | None, meta: RequestMeta, outcome: str, reason: str, identifier: str
) -> None:
    event_record(
        action="console:Login",
        account=user.account_id if user else None,
        actor_arn=user.arn if user else "",
        actor_kind=user.kind if user else "",
        meta=meta,
        outcome=outcome,
        error_code="LoginFailed" if reason else "",
        details={"reason": reason, "login": identifier[:128]} if reason else {},
    )


def reauthenticate(*, actor: Principal, user: User, password: str) -> bool:
    """Step-up: the password, or a current TOTP code when the user has MFA. Failures count
    toward the account's lock."""
    now = timezone.now()
    locked = user.locked_until is not None and user.locked_until > now
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if not locked and totp is not None and password.isdigit() and len(password) == 6:
        ok = bool(totp.verify_token(password))  # django-otp: replay-protected and throttled
    else:
        ok = (
            not locked
            and len(password) <= settings.IAM_PASSWORD_MAX_LENGTH
            and user.check_password(password)
        )
    if not ok and not locked:
        record_failure(user, now)
    event_record(
        actor=actor,
        action="console:Reauthenticate",
        target_arn=user.arn,
        outcome="success" if ok else "error",
        error_code="" if ok else "LoginFailed",
    )
    return ok


def logout_record(*, actor: Principal) -> None:
    event_record(actor=actor, action="console:Logout", target_arn=actor.arn)
