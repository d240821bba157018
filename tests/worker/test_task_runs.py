"""A task run killed mid-way doesn't stay `running` forever: past a generous bound it is failed
by housekeeping, and the worker-health page shows it as failed even before that."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from housekeeping.models import TaskRun
from housekeeping.services import STALE_RUN_ERROR, fail_stale_runs, stale_after
from housekeeping.tasks import housekeeping
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

EXPIRY = "sts.tasks.expire_sessions"  # every 60 s: the one-hour floor applies
HOUSEKEEPING = "housekeeping.tasks.housekeeping"


def started(task: str, ago: timedelta) -> TaskRun:
    run = TaskRun.objects.create(task=task)
    TaskRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - ago)
    return run


@pytest.mark.parametrize(
    ("task", "interval", "bound"),
    [
        (EXPIRY, 60, timedelta(hours=1)),
        ("audit.archive_expired_events", 86400, timedelta(days=2)),
        ("not.scheduled", None, timedelta(hours=1)),
    ],
)
def test_the_bound_is_twice_the_interval_and_at_least_an_hour(task, interval, bound):
    assert stale_after(task) == bound


def test_housekeeping_fails_runs_that_never_finished():
    killed = started(EXPIRY, timedelta(hours=1, minutes=1))
    recent = started(EXPIRY, timedelta(minutes=50))
    done = started(EXPIRY, timedelta(hours=3))
    TaskRun.objects.filter(pk=done.pk).update(outcome="success", finished_at=timezone.now())

    details = housekeeping()

    assert details["stale_task_runs"] == 1
    killed.refresh_from_db()
    assert killed.outcome == "error" and killed.finished_at is not None
    assert killed.details == {"error": STALE_RUN_ERROR}
    assert TaskRun.objects.get(pk=recent.pk).outcome == "running"
    assert TaskRun.objects.get(pk=done.pk).outcome == "success"
    assert TaskRun.objects.filter(task=HOUSEKEEPING).get().outcome == "success"


def test_a_run_in_progress_is_left_alone():
    started(EXPIRY, timedelta(seconds=5))
    assert fail_stale_runs() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert fail_stale_runs() == 1


def test_health_page_shows_a_killed_run_as_failed(tenant, admin):
    started(EXPIRY, timedelta(hours=2))
    client = Client()
    client.post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    page = client.get("/console/worker/").content.decode()
    assert "did not finish (worker stopped?)" in page
    assert TaskRun.objects.get(task=EXPIRY).outcome == "running"  # the page only reads
    fail_stale_runs()
    page = client.get("/console/worker/").content.decode()
    assert "did not finish (worker stopped?)" in page and ">error<" in page
