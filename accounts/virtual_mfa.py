"""Virtual MFA devices as the RAM API manages them (reference §5.4): create a device with a
seed, bind it to a user with two consecutive codes, unbind, delete, list.

Binding hands the seed to a django-otp TOTPDevice, so sign-in and the console treat API-bound
and console-enrolled devices alike; codes are computed with django-otp's TOTP.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
import time
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.pure
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.crypto import decrypt, encrypt
from accounts.errors import Conflict, InvalidParameter, NotFound
from accounts.models import Account, User, VirtualMFADevice
from audit.services import event_record
from policies.guards import require
from policies.principal import Principal

NAME_RE = re.compile(r"^[A-Za-z0-9.-]{1,64}$")
DEVICES_PER_ACCOUNT = 1000


def _resource(account_uid: str, name: str = "*") -> str:
    return f"acs:ram:*:{account_uid}:mfa/{name}"


def _context(device_account_id: int, name: str) -> str:
    return f"mfa-seed:{device_account_id}:{name.lower()}"


def _device_by_serial(actor: Principal, serial: str) -> VirtualMFADevice:
    prefix = f"acs:ram::{actor.account_uid}:mfa/"
    name = serial[len(prefix) :] if serial.startswith(prefix) else ""
    device = (
        VirtualMFADevice.objects.select_related("account", "user")
        .filter(account_id=actor.account_id, name__lower=name.lower())
        .first()
        if name
        else None
    )
    if device is None:
        raise NotFound(
            "EntityNotExist.VirtualMFADevice", f"The virtual MFA device does not exist: {serial}."
        )
    return device


def provisioning_uri(account: Account, name: str, seed: bytes) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    secret = base64.b32encode(seed).decode().rstrip("=")
    label = quote(f"iamconsole:{name}@{account.alias}")
    query = urlencode({"secret": secret, "issuer": "iamconsole", "digits": 6, "period": 30})
    return f"otpauth://totp/{label}?{query}"


def device_create(*, actor: Principal, name: str) -> tuple[VirtualMFADevice, str, str]:
    """Create an unbound device; return it with its base32 seed and a base64 PNG QR code."""
    if not NAME_RE.match(name or ""):
        raise InvalidParameter(
            "InvalidParameter.VirtualMFADeviceName.InvalidChars",
            'The parameter - "VirtualMFADeviceName" must be 1 to 64 letters, digits, "." or "-".',
        )
    require(actor, "ram:CreateVirtualMFADevice", _resource(actor.account_uid, name))
    account = Account.objects.get(pk=actor.account_id)
    if VirtualMFADevice.objects.filter(account=account).count() >= DEVICES_PER_ACCOUNT:
        raise Conflict("LimitExceeded.VirtualMFADevice", "Too many virtual MFA devices.")
    seed = secrets.token_bytes(20)
    try:
        with transaction.atomic():
            device = VirtualMFADevice.objects.create(
                account=account,
                name=name,
                seed_sealed=encrypt(seed.hex(), context=_context(account.pk, name)),
            )
            event_record(
                actor=actor, action="ram:CreateVirtualMFADevice", target_arn=device.serial_number
            )
    except IntegrityError as exc:
        raise Conflict(
            "EntityAlreadyExists.VirtualMFADevice",
            f"The virtual MFA device {name} does already exist.",
        ) from exc
    image = qrcode.make(
        provisioning_uri(account, name, seed), image_factory=qrcode.image.pure.PyPNGImage
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return (
        device,
        base64.b32encode(seed).decode().rstrip("="),
        base64.b64encode(buffer.getvalue()).decode(),
    )


def _consecutive_step(seed: bytes, code1: str, code2: str) -> int | None:
    """The time step of code2 when code1 and code2 are consecutive codes near now."""
    totp = TOTP(seed, step=30, digits=6)
    now_step = int(time.time()) // 30
    for step in range(now_step - 3, now_step + 2):
        totp.time = step * 30
        first = totp.token()
        totp.time = (step + 1) * 30
        if f"{first:06d}" == code1 and f"{totp.token():06d}" == code2:
            return step + 1
    return None


def device_bind(*, actor: Principal, serial: str, user: User, code1: str, code2: str) -> None:
    require(actor, "ram:BindMFADevice", user.resource_arn)
    device = _device_by_serial(actor, serial)
    for code, param in ((code1, "AuthenticationCode1"), (code2, "AuthenticationCode2")):
        if not re.fullmatch(r"\d{6}", code or ""):
            raise InvalidParameter(
                "InvalidParameter.AuthenticationCode.Format",
                f'The parameter - "{param}" MUST be 6 numbers.',
            )
    if device.user_id is not None:
        raise Conflict(
            "EntityAlreadyExists.VirtualMFADevice.User",
            "The virtual MFA device is already bound to a user.",
        )
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict(
            "EntityAlreadyExists.User.MFADevice", f"The user {user.name} already has an MFA device."
        )
    seed = bytes.fromhex(
        decrypt(device.seed_sealed, context=_context(device.account_id, device.name))
    )
    step = _consecutive_step(seed, code1, code2)
    if step is None:
        event_record(
            actor=actor,
            action="ram:BindMFADevice",
            target_arn=user.arn,
            outcome="error",
            error_code="CheckAuthenticationCodeFail",
        )
        raise InvalidParameter(
            "CheckAuthenticationCodeFail", 'The parameter - "AuthenticationCode" is incorrect.'
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        TOTPDevice.objects.create(
            user=user, name=device.name, key=seed.hex(), confirmed=True, last_t=step
        )
        VirtualMFADevice.objects.filter(pk=device.pk).update(user=user, activated_at=timezone.now())
        User.objects.filter(pk=user.pk).update(mfa_bind_required=False)
        event_record(
            actor=actor,
            action="ram:BindMFADevice",
            target_arn=user.arn,
            details={"serial_number": device.serial_number},
        )


def device_of(user: User) -> VirtualMFADevice | None:
    return VirtualMFADevice.objects.select_related("account").filter(user=user).first()


def device_delete(*, actor: Principal, serial: str) -> None:
    prefix = f"acs:ram::{actor.account_uid}:mfa/"
    name = serial[len(prefix) :] if serial.startswith(prefix) else serial.rpartition("/")[2]
    require(actor, "ram:DeleteVirtualMFADevice", _resource(actor.account_uid, name))  # before 404
    device = _device_by_serial(actor, serial)
    if device.name != name:  # matched in another case: the stored name is what policies name
        require(actor, "ram:DeleteVirtualMFADevice", _resource(actor.account_uid, device.name))
    if device.user_id is not None:
        raise Conflict(
            "DeleteConflict.VirtualMFADevice.User",
            "The virtual MFA device is bound to a user; unbind it first.",
        )
    with transaction.atomic():
        device.delete()
        event_record(
            actor=actor, action="ram:DeleteVirtualMFADevice", target_arn=device.serial_number
        )


def record_console_enrollment(user: User, totp: TOTPDevice) -> None:
    """A device enrolled in the console appears in the account's device list, named after
    the user, bound to it."""
    name = user.name if not user.is_root else "root"
    VirtualMFADevice.objects.filter(
        account_id=user.account_id, name__lower=name.lower(), user__isnull=True
    ).delete()
    VirtualMFADevice.objects.update_or_create(
        account_id=user.account_id,
        user=user,
        defaults={
            "name": name,
            "activated_at": timezone.now(),
            "seed_sealed": encrypt(totp.key, context=_context(user.account_id, name)),
        },
    )


def forget_user_devices(user: User) -> None:
    """After an unbind: the user's device is unbound (kept for the API) and its codes go."""
    VirtualMFADevice.objects.filter(user=user).update(user=None, activated_at=None)
    StaticDevice.objects.filter(user=user).delete()
