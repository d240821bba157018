"""The AccessKey rotation policy: age, warning and unused rules, run by the worker.

Rules, per active key not exempted: past max age or unused for too long → notify, or
deactivate (never a key used in the last 24 h that was not warned first: it gets the warning
now, and is deactivated on a later run); approaching max age → one warning. Keys deactivated by
the policy are deleted after delete-after days when set. A rotated key is deactivated when its
grace period ends. Every change is one conditional UPDATE/DELETE, so several workers never act
twice, and each is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AccessKey, KeyRotationPolicy, Notice, User
from audit.services import event_record

RECENT_USE = timedelta(hours=24)
PRIVILEGED = ("AdministratorAccess", "AliyunRAMFullAccess")


@dataclass(frozen=True)
class Planned:
    key: AccessKey
    kind: str  # "warn" | "notify" | "deactivate" | "retire" | "delete"
    reason: str

    @property
    def label(self) -> str:
        return {
            "warn": "Warn the owner",
            "notify": "Notify the owner",
            "deactivate": "Deactivate",
            "retire": "Deactivate (rotation grace over)",
            "delete": "Delete",
        }[self.kind]


def rotation_policy_of(account_id: int) -> KeyRotationPolicy:
    policy, _ = KeyRotationPolicy.objects.get_or_create(account_id=account_id)
    return policy


def _days(value: int) -> timedelta:
    return timedelta(days=value)


def _rule_for(policy: KeyRotationPolicy, key: AccessKey, now: datetime) -> Planned | None:
    age = now - key.created_at
    idle = now - (key.last_used_at or key.created_at)
    over_age = bool(policy.max_age_days) and age >= _days(policy.max_age_days)
    over_idle = bool(policy.unused_days) and idle >= _days(policy.unused_days)
    if over_age or over_idle:
        reason = (
            f"older than {policy.max_age_days} days"
            if over_age
            else f"unused for {policy.unused_days} days"
        )
        if policy.action == KeyRotationPolicy.Action.NOTIFY:
            return None if key.warned_at else Planned(key, "notify", reason)
        used_recently = key.last_used_at is not None and now - key.last_used_at < RECENT_USE
        if used_recently and key.warned_at is None:
            return Planned(key, "warn", f"{reason}; used in the last 24 h, so warned first")
        return Planned(key, "deactivate", reason)
    near = policy.max_age_days and age >= _days(
        max(policy.max_age_days - policy.warn_before_days, 0)
    )
    if near and key.warned_at is None:
        due = (key.created_at + _days(policy.max_age_days)).date()
        return Planned(
            key, "warn", f"reaches the maximum age of {policy.max_age_days} days on {due}"
        )
    return None


def plan(policy: KeyRotationPolicy, keys: list[AccessKey], now: datetime) -> list[Planned]:
    """What the policy would do to these keys now (nothing is written)."""
    actions: list[Planned] = []
    for key in keys:
        if key.is_active and key.retire_at and key.retire_at <= now:
            actions.append(Planned(key, "retire", "the rotation grace period ended"))
            continue
        if not policy.enabled or (key.exempt_until and key.exempt_until >= now.date()):
            continue
        if not key.is_active:
            deleted_after = policy.delete_after_deactivated_days
            if (
                deleted_after
                and key.policy_deactivated_at
                and (now - key.policy_deactivated_at >= _days(deleted_after))
            ):
                actions.append(Planned(key, "delete", f"deactivated {deleted_after} days ago"))
            continue
        planned = _rule_for(policy, key, now)
        if planned:
            actions.append(planned)
    return actions


def enforce(
    account_id: int, *, dry_run: bool = False, now: datetime | None = None
) -> list[Planned]:
    """Evaluate the account's keys; unless dry_run, carry the actions out."""
    now = now or timezone.now()
    policy = rotation_policy_of(account_id)
    keys = list(
        AccessKey.objects.filter(user__account_id=account_id)
        .select_related("user__account")
        .order_by("id")
    )
    actions = plan(policy, keys, now)
    if not dry_run:
        for action in actions:
            _apply(action, now)
    return actions


def _apply(action: Planned, now: datetime) -> None:
    key = action.key
    rows = AccessKey.objects.filter(pk=key.pk)
    with transaction.atomic():
        if action.kind in ("warn", "notify"):
            done = rows.filter(warned_at=None).update(warned_at=now)
        elif action.kind in ("deactivate", "retire"):
            done = rows.filter(status=AccessKey.Status.ACTIVE).update(
                status=AccessKey.Status.INACTIVE, policy_deactivated_at=now
            )
        else:
            done = rows.filter(status=AccessKey.Status.INACTIVE).delete()[0]
        if not done:
            return  # another worker got there first
        audit_action = {
            "warn": "ram:WarnAccessKeyRotation",
            "notify": "ram:WarnAccessKeyRotation",
            "deactivate": "ram:UpdateAccessKey",
            "retire": "ram:UpdateAccessKey",
            "delete": "ram:DeleteAccessKey",
        }[action.kind]
        event_record(
            action=audit_action,
            account=key.user.account_id,
            actor_kind="worker",
            actor_arn="iamconsole:worker/key-rotation",
            target_arn=key.user.arn,
            details={
                "access_key_id": key.access_key_id,
                "rule": action.reason,
                "step": action.kind,
            },
        )
        transaction.on_commit(lambda: _notify(action))


def _recipients(owner: User) -> list[User]:
    admins = User.objects.filter(
        Q(kind=User.Kind.ROOT)
        | Q(
            policy_attachments__policy__name__in=PRIVILEGED,
            policy_attachments__policy__account__isnull=True,
        )
        | Q(group_memberships__group__policy_attachments__policy__name__in=PRIVILEGED),
        account_id=owner.account_id,
    ).distinct()
    return [owner, *[u for u in admins if u.pk != owner.pk]]


def _notify(action: Planned) -> None:
    key, owner = action.key, action.key.user
    text = {
        "warn": f"AccessKey {key.access_key_id} of {owner.name} {action.reason}. Rotate it: "
        "create a new key, move the program to it, then delete the old one.",
        "notify": f"AccessKey {key.access_key_id} of {owner.name} is {action.reason}; rotate it.",
        "deactivate": f"AccessKey {key.access_key_id} of {owner.name} was deactivated: "
        f"{action.reason}.",
        "retire": f"AccessKey {key.access_key_id} of {owner.name} was deactivated: its "
        "rotation grace period ended.",
        "delete": f"AccessKey {key.access_key_id} of {owner.name} was deleted: {action.reason}.",
    }[action.kind]
    recipients = _recipients(owner)
    Notice.objects.bulk_create(
        [Notice(account_id=owner.account_id, user=user, message=text) for user in recipients]
    )
    emails = sorted({user.email for user in recipients if user.email})
    if emails:
        send_mail(
            "iamconsole: AccessKey rotation",
            text,
            settings.DEFAULT_FROM_EMAIL,
            emails,
            fail_silently=True,
        )


def accounts_to_check() -> list[int]:
    enabled = KeyRotationPolicy.objects.filter(enabled=True).values_list("account_id", flat=True)
    retiring = AccessKey.objects.filter(
        retire_at__isnull=False, status=AccessKey.Status.ACTIVE
    ).values_list("user__account_id", flat=True)
    return sorted(set(enabled) | set(retiring))
