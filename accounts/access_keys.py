"""AccessKey lifecycle: create (secret returned once), enable/disable, delete, last used.

Writes follow the services convention: permission first, then change + audit event in one
transaction. A user may manage its own keys without a policy when the account's security
preference AllowUserToManageAccessKeys is on.
"""

from __future__ import annotations

import secrets
import string
import time
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.crypto import decrypt, encrypt
from accounts.errors import Conflict, InvalidParameter, NotFound
from accounts.models import AccessKey, User
from accounts.preferences import security_preference_of
from accounts.selectors import KeyRecord
from audit.services import event_record
from policies.guards import require
from policies.principal import Principal

MAX_KEYS_PER_USER = 2
LAST_USED_INTERVAL = 300  # seconds: at most one last-used write per key per interval
_ALPHANUMERIC = string.ascii_letters + string.digits


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def _require_key_permission(actor: Principal, action: str, user: User) -> None:
    """Self-management is allowed by the security preference; anything else needs a policy."""
    own = actor.user_pk == user.pk and not actor.is_root
    if own and security_preference_of(user.account_id).allow_user_to_manage_access_keys:
        return
    require(actor, action, _key_owner_resource(user))


def _key_owner_resource(user: User) -> str:
    return user.resource_arn if not user.is_root else f"acs:ram:*:{user.account.uid}:root"


def keys_of(actor: Principal, user: User) -> QuerySet[AccessKey]:
    _require_key_permission(actor, "ram:ListAccessKeys", user)
    return AccessKey.objects.filter(user=user).order_by("created_at", "id")


def get_key(actor: Principal, user: User, access_key_id: str, action: str) -> AccessKey:
    _require_key_permission(actor, action, user)
    key = AccessKey.objects.filter(user=user, access_key_id=access_key_id).first()
    if key is None:
        raise NotFound(
            "EntityNotExist.User.AccessKey", f"The access key does not exist: {access_key_id}."
        )
    return key


def access_key_create(*, actor: Principal, user: User) -> tuple[AccessKey, str]:
    """Create a key pair; the secret is returned here and never again."""
    _require_key_permission(actor, "ram:CreateAccessKey", user)
    if not (user.programmatic_access or user.is_root):
        raise InvalidParameter(
            "InvalidParameter.AccessMode",
            f"The user {user.name} has no programmatic access; enable it on the user first.",
        )
    secret = _random(30)
    with transaction.atomic():
        owner = User.objects.select_for_update().get(pk=user.pk)  # serialises the limit check
        if AccessKey.objects.filter(user=owner).count() >= MAX_KEYS_PER_USER:
            raise Conflict(
                "LimitExceeded.User.AccessKey",
                f"A user can have at most {MAX_KEYS_PER_USER} AccessKeys; delete one first.",
            )
        key_id = "LTAI" + _random(20)
        key = AccessKey.objects.create(
            access_key_id=key_id, user=owner, secret_sealed=encrypt(secret, context=key_id)
        )
        event_record(
            actor=actor,
            action="ram:CreateAccessKey",
            target_arn=user.arn,
            details={"access_key_id": key_id, "root_key": user.is_root},
        )
    return key, secret


def access_key_set_status(*, actor: Principal, user: User, access_key_id: str, status: str) -> None:
    if status not in AccessKey.Status.values:
        raise InvalidParameter(
            "InvalidParameter.Status", 'The parameter "Status" must be Active or Inactive.'
        )
    key = get_key(actor, user, access_key_id, "ram:UpdateAccessKey")
    before = key.status
    with transaction.atomic():
        AccessKey.objects.filter(pk=key.pk).update(status=status)
        event_record(
            actor=actor,
            action="ram:UpdateAccessKey",
            target_arn=user.arn,
            details={"access_key_id": access_key_id, "before": before, "after": status},
        )


def access_key_delete(*, actor: Principal, user: User, access_key_id: str) -> None:
    key = get_key(actor, user, access_key_id, "ram:DeleteAccessKey")
    with transaction.atomic():
        key.delete()
        event_record(
            actor=actor,
            action="ram:DeleteAccessKey",
            target_arn=user.arn,
            details={"access_key_id": access_key_id},
        )


def access_key_secret(key: AccessKey) -> str:
    """The plaintext secret, for signature verification only."""
    return decrypt(key.secret_sealed, context=key.access_key_id)


_recently_touched: dict[str, float] = {}


def access_key_touch(key: AccessKey | KeyRecord, *, source_ip: str | None, action: str) -> None:
    """Record last use, coalesced: at most one write per key per LAST_USED_INTERVAL.

    A per-process memo skips the shared cache for keys this process touched recently; the
    shared cache.add then elects one writer across processes and nodes.
    """
    now = time.monotonic()
    if now - _recently_touched.get(key.access_key_id, -LAST_USED_INTERVAL) < LAST_USED_INTERVAL:
        return
    if len(_recently_touched) > 10_000:
        _recently_touched.clear()
    _recently_touched[key.access_key_id] = now
    if not cache.add(f"ak-last-used:{key.access_key_id}", 1, timeout=LAST_USED_INTERVAL):
        return
    AccessKey.objects.filter(pk=key.pk).update(
        last_used_at=timezone.now(), last_used_ip=source_ip, last_used_action=action[:128]
    )


def access_key_rotate(*, actor: Principal, user: User, access_key_id: str) -> tuple[AccessKey, str]:
    """Create the successor of a key (secret returned once); the old key stays active for the
    policy's grace period, then the worker deactivates it."""
    from accounts.rotation import rotation_policy_of

    old = get_key(actor, user, access_key_id, "ram:CreateAccessKey")
    if not old.is_active:
        raise InvalidParameter("InvalidParameter.Status", "Only an active key can be rotated.")
    grace = rotation_policy_of(user.account_id).rotation_grace_days
    key, secret = access_key_create(actor=actor, user=user)
    with transaction.atomic():
        AccessKey.objects.filter(pk=key.pk).update(successor_of=old.access_key_id)
        AccessKey.objects.filter(pk=old.pk).update(retire_at=timezone.now() + timedelta(days=grace))
        event_record(
            actor=actor,
            action="ram:RotateAccessKey",
            target_arn=user.arn,
            details={"old": old.access_key_id, "new": key.access_key_id, "grace_days": grace},
        )
    return key, secret


def access_key_exempt(
    *, actor: Principal, user: User, access_key_id: str, until: Any, reason: str
) -> None:
    """Exempt a key from the rotation policy until a date, with a reason (audited)."""
    key = get_key(actor, user, access_key_id, "ram:UpdateAccessKey")
    if not reason.strip():
        raise InvalidParameter("InvalidParameter.Reason", "Give a reason for the exemption.")
    with transaction.atomic():
        AccessKey.objects.filter(pk=key.pk).update(
            exempt_until=until, exempt_reason=reason.strip()[:256]
        )
        event_record(
            actor=actor,
            action="ram:ExemptAccessKey",
            target_arn=user.arn,
            details={
                "access_key_id": access_key_id,
                "until": str(until),
                "reason": reason.strip()[:256],
            },
        )
