"""Recording periodic task runs, and the housekeeping that needs no other app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from housekeeping.models import TaskRun


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
            }
        )
    return rows
