"""Recording periodic task runs, and the housekeeping that needs no other app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from housekeeping.models import TaskRun

# A run still `running` past this bound was killed mid-way (worker stopped, OOM, deploy).
STALE_RUN_ERROR = "did not finish (worker stopped?)"
STALE_RUN_FLOOR = timedelta(hours=1)


@contextmanager
def task_run(name: str) -> Iterator[dict[str, Any]]:
    """Record a run of `name`: started, then success with details, or error."""
    run = TaskRun.objects.create(task=name)
    details: dict[str, Any] = {}
    try:
        yield details
    except Exception as exc:
        TaskRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            outcome=TaskRun.Outcome.ERROR,
            details={**details, "error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        raise
    TaskRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), outcome=TaskRun.Outcome.SUCCESS, details=details
    )


def prune_console_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def prune_database_cache() -> int:
    """Expired rows of the database cache of the embedded default (caching only)."""
    if "DatabaseCache" not in settings.CACHES["default"]["BACKEND"]:
        return 0
    from django.db import connection

    table = connection.ops.quote_name(settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [timezone.now()])  # noqa: S608
        return cursor.rowcount


def stale_after(task: str) -> timedelta:
    """How long a run of `task` may stay `running`: twice its beat interval, at least an hour."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] == task:
            interval = timedelta(seconds=2 * float(entry["schedule"]))  # type: ignore[arg-type]
            return max(interval, STALE_RUN_FLOOR)
    return STALE_RUN_FLOOR


def is_stale(run: TaskRun, now: datetime) -> bool:
    return run.outcome == TaskRun.Outcome.RUNNING and now - run.started_at > stale_after(run.task)


def fail_stale_runs() -> int:
    """Mark runs that never finished as failed, so the health page stops showing them running."""
    now = timezone.now()
    stale = [
        run.pk
        for run in TaskRun.objects.filter(outcome=TaskRun.Outcome.RUNNING)
        if is_stale(run, now)
    ]
    return TaskRun.objects.filter(pk__in=stale, outcome=TaskRun.Outcome.RUNNING).update(
        finished_at=now, outcome=TaskRun.Outcome.ERROR, details={"error": STALE_RUN_ERROR}
    )


def prune_task_runs(keep_days: int = 14) -> int:
    deleted, _ = TaskRun.objects.filter(
        started_at__lt=timezone.now() - timedelta(days=keep_days)
    ).delete()
    return deleted


def health() -> list[dict[str, Any]]:
    """Last run of each scheduled task, and whether beat looks alive (≤ 2 intervals old)."""
    now = timezone.now()
    rows = []
    for key, entry in settings.CELERY_BEAT_SCHEDULE.items():
        interval = float(entry["schedule"])  # type: ignore[arg-type]
        last = TaskRun.objects.filter(task=entry["task"]).first()
        stale = last is None or (now - last.started_at).total_seconds() > 2 * interval
        rows.append(
            {
                "key": key,
                "task": entry["task"],
                "interval": int(interval),
                "last": last,
                "stale": stale,
                # Killed mid-way and not yet failed by housekeeping: shown failed all the same.
                "unfinished": STALE_RUN_ERROR if last and is_stale(last, now) else "",
            }
        )
    return rows
