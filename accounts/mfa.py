"""Multi-factor authentication on django-otp: TOTP devices and recovery codes.

- Enrollment creates an unconfirmed TOTPDevice; it counts once a current code confirms it.
- Recovery codes are django-otp static tokens, stored as a keyed hash (never the code) and
  consumed with one atomic DELETE, so a code works exactly once even under concurrency.
- Every failed code counts toward the user's login lock, like a wrong password; django-otp's
  own replay protection (last_t) and throttling stay on.
- "Remember this device" is a signed cookie naming the user's ticket version: bumping the
  version revokes every remembered device.
"""

from __future__ import annotations

import io
import math
import secrets
from typing import Any

import qrcode
import qrcode.image.svg
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.crypto import keyed_digest, keyed_digests
from accounts.errors import Conflict, InvalidParameter
from accounts.login import record_failure
from accounts.models import User
from accounts.preferences import security_preference_of
from accounts.virtual_mfa import forget_user_devices, record_console_enrollment
from audit.services import event_record
from policies.authorization import authorize
from policies.guards import refuse, require
from policies.principal import Principal

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_PURPOSE = "recovery-codes:"
TICKET_COOKIE = "iam_mfa_ticket"
TICKET_SALT = "iamconsole.mfa-ticket"
TICKET_DAYS = 7
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_mfa(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_administrator(user: User) -> bool:
    """Root, or anyone whose policies let them grant permissions."""
    if user.is_root:
        return True
    from accounts.selectors import principal_for_user

    resource = f"acs:ram:*:{user.account.uid}:user/*"
    return authorize(principal_for_user(user), "ram:AttachPolicyToUser", resource).allowed


def mfa_required(user: User) -> bool:
    """MFABindRequired on the user, or the account's requirement covering this user."""
    if user.mfa_bind_required:
        return True
    requirement = security_preference_of(user.account_id).mfa_requirement
    return requirement == "all" or (requirement == "admins" and is_administrator(user))


# --- enrollment -----------------------------------------------------------------------------


def enrollment_start(user: User) -> TOTPDevice:
    """A fresh unconfirmed device (any earlier unconfirmed one is discarded)."""
    if has_mfa(user):
        raise Conflict(
            "EntityAlreadyExists.User.MFADevice",
            "You already have an MFA device; remove it before enrolling another.",
        )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Virtual MFA", confirmed=False)


def pending_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG, rendered here (no external service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


def base32_secret(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def enrollment_confirm(*, actor: Principal, user: User, code: str) -> list[str]:
    """Confirm the pending device with a current code; return fresh recovery codes (shown once)."""
    device = pending_device(user)
    if device is None:
        raise InvalidParameter("InvalidParameter.MFADevice", "Start the enrollment again.")
    wait = throttle_message(device)
    if wait:
        raise InvalidParameter("Throttling.MFA", wait)
    if not device.verify_token(code.strip()):
        record_failure(user, timezone.now())
        event_record(
            actor=actor,
            action="console:EnrollMFADevice",
            target_arn=user.arn,
            outcome="error",
            error_code="CheckAuthenticationCodeFail",
        )
        raise InvalidParameter(
            "CheckAuthenticationCodeFail",
            "That code is not right. Enter the 6 digits your app shows now.",
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        record_console_enrollment(user, device)
        codes = _replace_recovery_codes(user)
        User.objects.filter(pk=user.pk).update(mfa_bind_required=False)
        event_record(
            actor=actor,
            action="console:EnrollMFADevice",
            target_arn=user.arn,
            details={"device": device.persistent_id},
        )
    return codes


# --- throttling ------------------------------------------------------------------------------


def throttle_message(device: TOTPDevice | StaticDevice | None) -> str:
    """Why a code can't be checked right now and when to retry, or "" when it can be.

    django-otp delays the next attempt after each wrong code (1 s, 2 s, 4 s …); a code sent
    earlier isn't checked at all, so "not right" would be a lie.
    """
    if device is None:
        return ""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return ""
    data = data or {}
    retry_at = data.get("next_allowed_at") or data.get("locked_until")
    if retry_at is None:
        return "Too many wrong codes were entered. Wait a moment, then try again."
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    unit = "second" if seconds == 1 else "seconds"
    return (
        f"Too many wrong codes: attempts are throttled. Try again in {seconds} {unit} "
        f"(after {retry_at:%H:%M:%S} UTC) with the code your app shows then."
    )


def sign_in_throttle_message(user: User, code: str) -> str:
    """The throttle message for the device a sign-in code would be checked against."""
    code = (code or "").strip()
    if code.isdigit() and len(code) == 6:
        return throttle_message(confirmed_totp(user))
    return throttle_message(StaticDevice.objects.filter(user=user).first()) if code else ""


# --- recovery codes -------------------------------------------------------------------------


def _code_digest(code: str) -> str:
    """A keyed digest that fits django-otp's 16-character token column."""
    return keyed_digest(RECOVERY_CODE_PURPOSE, _normalized(code))[:16]


def _code_digests(code: str) -> list[str]:
    """The digest under SECRET_KEY, then under each of SECRET_KEY_FALLBACKS."""
    return [digest[:16] for digest in keyed_digests(RECOVERY_CODE_PURPOSE, _normalized(code))]


def _normalized(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=_code_digest(code)) for code in codes]
    )
    return codes


def recovery_codes_regenerate(*, actor: Principal, user: User) -> list[str]:
    if not has_mfa(user):
        raise InvalidParameter("InvalidParameter.MFADevice", "Enroll an MFA device first.")
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        event_record(actor=actor, action="console:RegenerateRecoveryCodes", target_arn=user.arn)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


# --- verification ---------------------------------------------------------------------------


def verify(user: User, code: str, *, meta: Any) -> TOTPDevice | StaticDevice | None:
    """Check a TOTP or recovery code; failures are throttled, counted and audited."""
    code = (code or "").strip()
    device: TOTPDevice | StaticDevice | None = None
    kind = "totp"
    if code.isdigit() and len(code) == 6:
        with transaction.atomic():
            totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            if totp is not None and totp.verify_token(code):
                device = totp
    elif code:
        kind = "recovery_code"
        device = _use_recovery_code(user, code)
    outcome = "success" if device else "error"
    event_record(
        action="console:VerifyMFA",
        account=user.account_id,
        actor_arn=user.arn,
        actor_kind=user.kind,
        meta=meta,
        outcome=outcome,
        error_code="" if device else "CheckAuthenticationCodeFail",
        details={"factor": kind},
    )
    if device is None:
        record_failure(user, timezone.now())
    return device


def _use_recovery_code(user: User, code: str) -> StaticDevice | None:
    static = StaticDevice.objects.filter(user=user).first()
    if static is None:
        return None
    allowed, _ = static.verify_is_allowed()
    if not allowed:
        return None
    deleted, _ = StaticToken.objects.filter(device=static, token__in=_code_digests(code)).delete()
    if deleted:
        static.throttle_reset()
        return static
    static.throttle_increment()
    return None


# --- unbinding --------------------------------------------------------------------------------


def require_unbind(*, actor: Principal, user: User) -> None:
    """May `actor` remove `user`'s MFA device? Its own: if the account lets users manage their
    devices; anyone else's: by policy. Refusals are audited by the guard."""
    if actor.user_pk != user.pk:
        require(actor, "ram:UnbindMFADevice", user.resource_arn)
    elif (
        not user.is_root
        and not security_preference_of(user.account_id).allow_user_to_manage_mfa_devices
    ):
        refuse(
            actor,
            "ram:UnbindMFADevice",
            user.resource_arn,
            reason="AllowUserToManageMFADevices is off",
        )


def unbind(*, actor: Principal, user: User) -> None:
    """Remove the user's MFA devices and recovery codes; revoke remembered devices.

    A user may not remove its only device while MFA is required for it.
    """
    require_unbind(actor=actor, user=user)
    if actor.user_pk == user.pk and mfa_required(user):
        raise Conflict(
            "DeleteConflict.User.MFADevice",
            "MFA is required for you, so you can't remove your only device.",
        )
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).count()
        TOTPDevice.objects.filter(user=user).delete()
        forget_user_devices(user)
        User.objects.filter(pk=user.pk).update(mfa_ticket_version=F("mfa_ticket_version") + 1)
        event_record(
            actor=actor,
            action="ram:UnbindMFADevice",
            target_arn=user.arn,
            details={"devices_removed": removed},
        )


# --- remember this device ----------------------------------------------------------------


def ticket_for(user: User) -> str:
    return signing.dumps({"u": user.pk, "v": user.mfa_ticket_version}, salt=TICKET_SALT)


def ticket_valid(user: User, ticket: str | None) -> bool:
    if not ticket or not security_preference_of(user.account_id).enable_save_mfa_ticket:
        return False
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_DAYS * 86400)
    except signing.BadSignature:
        return False
    return data == {"u": user.pk, "v": user.mfa_ticket_version}
