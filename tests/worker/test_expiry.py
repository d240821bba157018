"""STS session expiry: the service with frozen time, and a real Celery worker through the
broker (Redis in the PostgreSQL run, kombu's filesystem transport otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from housekeeping.models import TaskRun
from roles.services import role_create
from sts.models import StsSession
from sts.services import sessions_expire

ROOT = Path(__file__).resolve().parents[2]


def make_sessions(tenant, count: int, *, expired: bool) -> None:
    role = role_create(
        actor=tenant.root_principal,
        name=f"r{count}{int(expired)}",
        trust_policy=(
            json.dumps(
                {
                    "Version": "1",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"RAM": [f"acs:ram::{tenant.account.uid}:root"]},
                        }
                    ],
                }
            )
        ),
    )
    moment = timezone.now() + timedelta(seconds=-10 if expired else 3600)
    StsSession.objects.bulk_create(
        [
            StsSession(
                access_key_id=f"STS.{role.pk}x{i}",
                secret_sealed="x",
                token_digest="x",
                account=tenant.account,
                role=role,
                session_name=f"s{i}",
                source_arn="a",
                source_account_uid=tenant.account.uid,
                expires_at=moment,
            )
            for i in range(count)
        ]
    )


@pytest.mark.django_db
def test_marks_in_batches_purges_after_retention_and_is_idempotent(tenant):
    make_sessions(tenant, 25, expired=True)
    make_sessions(tenant, 5, expired=False)
    result = sessions_expire(retention_days=30, batch_size=10)
    assert result == {"marked": 25, "purged": 0}
    assert AuditEvent.objects.filter(action="sts:MarkExpiredSessions").count() == 3
    assert sessions_expire(retention_days=30, batch_size=10) == {"marked": 0, "purged": 0}
    with time_machine.travel(timezone.now() + timedelta(days=30, minutes=5)):
        result = sessions_expire(retention_days=30, batch_size=10)
    assert result["purged"] == 25 and StsSession.objects.count() == 5


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    return f"postgres://{user}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"


def start_worker(name: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="iamconsole.settings",
        IAM_TESTING="1",
        DATABASE_URL=_database_url(),
        PYTHONPATH=str(ROOT),
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "iamconsole",
            "worker",
            "--pool=solo",
            "--loglevel=warning",
            "-n",
            f"{name}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, seconds: float = 45) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def workers():
    from iamconsole.celery import app

    app.control.purge()
    started: list[subprocess.Popen] = []
    yield lambda n: started.extend(start_worker(f"w{i}") for i in range(n))
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_marks_expired_sessions(tenant, workers):
    from sts.tasks import expire_sessions

    make_sessions(tenant, 3, expired=True)
    workers(1)
    expire_sessions.delay()
    assert wait_for(lambda: StsSession.objects.filter(expired_marked_at=None).count() == 0)
    assert wait_for(
        lambda: TaskRun.objects.filter(task="sts.tasks.expire_sessions", outcome="success").exists()
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_do_no_double_work(tenant, workers):
    from sts.tasks import expire_sessions

    make_sessions(tenant, 400, expired=True)
    workers(2)
    for _ in range(4):
        expire_sessions.delay()
    assert wait_for(
        lambda: (
            TaskRun.objects.filter(task="sts.tasks.expire_sessions", outcome="success").count() == 4
        ),
        60,
    )
    marked = sum(
        e.details["rows"] for e in AuditEvent.objects.filter(action="sts:MarkExpiredSessions")
    )
    assert marked == 400


@pytest.mark.django_db
def test_worker_health_page_warns_when_beat_is_late(tenant, admin, plain):
    from django.test import Client

    from housekeeping.services import task_run
    from tests.conftest import PASSWORD

    client = Client()
    client.post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    page = client.get("/console/worker/")
    assert page.status_code == 200 and b"Beat may not be running" in page.content
    with task_run("sts.tasks.expire_sessions") as details:
        details["marked"] = 0
    for task in (
        "housekeeping.tasks.housekeeping",
        "accounts.tasks.enforce_key_rotation",
        "audit.archive_expired_events",
    ):
        with task_run(task):
            pass
    page = client.get("/console/worker/")
    assert b"Beat may not be running" not in page.content and b"success" in page.content
    other = Client()
    other.post("/console/login", {"login": "plain@acme.iam.localhost", "password": PASSWORD})
    assert other.get("/console/worker/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_deactivates_a_key_past_max_age(tenant, workers):
    from accounts.access_keys import access_key_create
    from accounts.models import AccessKey, User
    from accounts.rotation import rotation_policy_of
    from accounts.tasks import enforce_key_rotation

    robot = tenant.make_user("old-bot", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    key, _ = access_key_create(actor=tenant.root_principal, user=User.objects.get(pk=robot.pk))
    AccessKey.objects.filter(pk=key.pk).update(
        created_at=timezone.now() - timedelta(days=120),
        last_used_at=timezone.now() - timedelta(days=3),
    )
    rules = rotation_policy_of(tenant.account.pk)
    rules.enabled, rules.action = True, "deactivate"
    rules.save()
    workers(1)
    enforce_key_rotation.delay()
    assert wait_for(lambda: AccessKey.objects.get(pk=key.pk).status == "Inactive")
    assert wait_for(
        lambda: AuditEvent.objects.filter(
            action="ram:UpdateAccessKey", actor_kind="worker"
        ).exists()
    )
