"""Periodic housekeeping: console sessions, single-use records, cache rows, task runs that
never finished, old run rows."""

from celery import shared_task

from housekeeping import services
from singleuse.services import purge_expired


@shared_task(name="housekeeping.tasks.housekeeping")
def housekeeping() -> dict:
    with services.task_run("housekeeping.tasks.housekeeping") as details:
        details["console_sessions"] = services.prune_console_sessions()
        details["cache_rows"] = services.prune_database_cache()
        details["single_use_records"] = purge_expired()
        details["stale_task_runs"] = services.fail_stale_runs()
        details["task_runs"] = services.prune_task_runs()
    return details
