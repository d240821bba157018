"""AccessKey rotation policy: every rule with frozen time, dry run, rotation, exemptions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.access_keys import access_key_create, access_key_exempt, access_key_rotate
from accounts.models import AccessKey, Notice, User
from accounts.rotation import enforce as enforce_now
from accounts.rotation import rotation_policy_of
from audit.models import AuditEvent
from tests.conftest import principal_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def robot(tenant):
    user = tenant.make_user("robot", console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True, email="robot@acme.example")
    return User.objects.get(pk=user.pk)


def policy(tenant, **values):
    rules = rotation_policy_of(tenant.account.pk)
    for name, value in {
        "enabled": True,
        "max_age_days": 90,
        "warn_before_days": 14,
        **values,
    }.items():
        setattr(rules, name, value)
    rules.save()
    return rules


def new_key(tenant, user, *, age_days=0, used_days_ago=None):
    key, _ = access_key_create(actor=tenant.root_principal, user=user)
    created = timezone.now() - timedelta(days=age_days)
    used = None if used_days_ago is None else timezone.now() - timedelta(days=used_days_ago)
    AccessKey.objects.filter(pk=key.pk).update(created_at=created, last_used_at=used)
    return AccessKey.objects.get(pk=key.pk)


@pytest.fixture
def enforce(django_capture_on_commit_callbacks):
    """The policy run, with on-commit notifications executed as a real commit would."""

    def run(account_id, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return enforce_now(account_id, **kwargs)

    return run


def kinds(actions):
    return [a.kind for a in actions]


def test_warning_before_max_age_then_notify(tenant, robot, enforce):
    policy(tenant)
    key = new_key(tenant, robot, age_days=80)
    assert kinds(enforce(tenant.account.pk)) == ["warn"]
    assert kinds(enforce(tenant.account.pk)) == []  # warned once
    assert Notice.objects.filter(user=robot).exists()
    assert "robot@acme.example" in mail.outbox[0].to and "root@acme.example" in mail.outbox[0].to
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert kinds(enforce(tenant.account.pk)) == []  # notify-only: already told
    assert AccessKey.objects.get(pk=key.pk).is_active


def test_deactivate_past_max_age(tenant, robot, enforce):
    policy(tenant, action="deactivate")
    key = new_key(tenant, robot, age_days=100, used_days_ago=10)
    assert kinds(enforce(tenant.account.pk)) == ["deactivate"]
    assert AccessKey.objects.get(pk=key.pk).status == "Inactive"
    event = AuditEvent.objects.get(action="ram:UpdateAccessKey", actor_kind="worker")
    assert event.details["access_key_id"] == key.access_key_id


def test_never_deactivates_a_recently_used_key_without_warning_first(tenant, robot, enforce):
    policy(tenant, action="deactivate")
    key = new_key(tenant, robot, age_days=100, used_days_ago=0)
    assert kinds(enforce(tenant.account.pk)) == ["warn"]
    assert AccessKey.objects.get(pk=key.pk).is_active
    assert kinds(enforce(tenant.account.pk)) == ["deactivate"]  # the next run, after warning


def test_unused_rule(tenant, robot, enforce):
    policy(tenant, max_age_days=0, unused_days=30, action="deactivate")
    idle = new_key(tenant, robot, age_days=40, used_days_ago=35)
    busy = new_key(tenant, robot, age_days=40, used_days_ago=2)
    actions = enforce(tenant.account.pk)
    assert [(a.kind, a.key.pk) for a in actions] == [("deactivate", idle.pk)]
    assert AccessKey.objects.get(pk=busy.pk).is_active


def test_delete_after_deactivated(tenant, robot, enforce):
    policy(tenant, action="deactivate", delete_after_deactivated_days=7)
    key = new_key(tenant, robot, age_days=100, used_days_ago=30)
    enforce(tenant.account.pk)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert kinds(enforce(tenant.account.pk)) == ["delete"]
    assert not AccessKey.objects.filter(pk=key.pk).exists()


def test_dry_run_changes_nothing(tenant, robot, enforce):
    policy(tenant, action="deactivate")
    key = new_key(tenant, robot, age_days=100, used_days_ago=30)
    assert kinds(enforce(tenant.account.pk, dry_run=True)) == ["deactivate"]
    assert AccessKey.objects.get(pk=key.pk).is_active and not mail.outbox


def test_exemption_until_a_date(tenant, robot, enforce):
    policy(tenant, action="deactivate")
    key = new_key(tenant, robot, age_days=100, used_days_ago=30)
    until = date.today() + timedelta(days=5)
    access_key_exempt(
        actor=tenant.root_principal,
        user=robot,
        access_key_id=key.access_key_id,
        until=until,
        reason="migration in progress",
    )
    assert kinds(enforce(tenant.account.pk)) == []
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert kinds(enforce(tenant.account.pk)) == ["deactivate"]


def test_rotate_keeps_both_for_the_grace_period(tenant, robot, enforce):
    rules = policy(tenant, enabled=False)
    rules.rotation_grace_days = 3
    rules.save()
    old = new_key(tenant, robot)
    new, secret = access_key_rotate(
        actor=tenant.root_principal, user=robot, access_key_id=old.access_key_id
    )
    assert len(secret) == 30 and new.is_active
    assert kinds(enforce(tenant.account.pk)) == []
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        assert kinds(enforce(tenant.account.pk)) == ["retire"]
    assert AccessKey.objects.get(pk=old.pk).status == "Inactive"
    assert AccessKey.objects.get(pk=new.pk).is_active


def test_disabled_policy_does_nothing(tenant, robot, enforce):
    policy(tenant, enabled=False, action="deactivate")
    new_key(tenant, robot, age_days=400)
    assert enforce(tenant.account.pk) == []


def test_self_rotation_needs_permission(tenant, robot):
    from accounts.errors import NoPermission

    key = new_key(tenant, robot)
    with pytest.raises(NoPermission):
        access_key_rotate(actor=principal_for(robot), user=robot, access_key_id=key.access_key_id)


def test_console_policy_preview_rotate_and_exempt(tenant, admin, robot):
    from django.test import Client

    from tests.conftest import PASSWORD

    key = new_key(tenant, robot, age_days=100, used_days_ago=30)
    client = Client()
    client.post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    saved = client.post(
        "/console/security/key-rotation",
        {
            "enabled": "on",
            "max_age_days": "90",
            "warn_before_days": "14",
            "unused_days": "0",
            "action": "deactivate",
            "delete_after_deactivated_days": "0",
            "rotation_grace_days": "7",
        },
    )
    assert saved.status_code == 302
    preview = client.get("/console/security/key-rotation")
    assert key.access_key_id.encode() in preview.content and b"Deactivate" in preview.content
    assert AccessKey.objects.get(pk=key.pk).is_active  # a preview changes nothing
    assert AuditEvent.objects.filter(action="ram:SetKeyRotationPolicy").exists()
    rotated = client.post(f"/console/users/robot/access-keys/{key.access_key_id}/rotate")
    assert rotated.status_code == 302  # post/redirect/get: the secret is shown by the GET
    shown = client.get(rotated["Location"])
    assert shown.status_code == 200 and b"ALIBABA_CLOUD_ACCESS_KEY_SECRET" in shown.content
    again = client.get(rotated["Location"])  # a reload neither shows it again nor rotates
    assert b"ALIBABA_CLOUD_ACCESS_KEY_SECRET" not in again.content
    assert AccessKey.objects.filter(user__name="robot").count() == 2
    assert AccessKey.objects.get(pk=key.pk).retire_at is not None
    client.post(
        f"/console/users/robot/access-keys/{key.access_key_id}/exempt",
        {"until": "2099-01-01", "reason": "legacy batch job"},
    )
    assert AccessKey.objects.get(pk=key.pk).exempt_reason == "legacy batch job"
    plain = Client()
    tenant.make_user("nobody")
    plain.post("/console/login", {"login": "nobody@acme.iam.localhost", "password": PASSWORD})
    assert plain.post("/console/security/key-rotation", {"enabled": "on"}).status_code == 403
    assert (
        plain.post(
            f"/console/users/robot/access-keys/{key.access_key_id}/exempt",
            {"until": "2099-01-01", "reason": "x"},
        ).status_code
        == 403
    )
