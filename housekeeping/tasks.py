"""Periodic housekeeping: console sessions, single-use records, cache rows, old run rows."""

from celery import shared_task

from housekeeping import services
from singleuse.services import purge_expired


@shared_task(name="housekeeping.tasks.housekeeping")
def housekeeping() -> dict:
    with services.task_run("housekeeping.tasks.housekeeping") as details:
        details["console_sessions"] = services.prune_console_sessions()
        details["cache_rows"] = services.prune_database_cache()
        details["single_use_records"] = purge_expired()
        details["task_runs"] = services.prune_task_runs()
    return details
