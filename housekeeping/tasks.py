"""Periodic housekeeping: expired console sessions, the database nonce store, old run rows."""

from celery import shared_task

from housekeeping import services


@shared_task(name="housekeeping.tasks.housekeeping")
def housekeeping() -> dict:
    with services.task_run("housekeeping.tasks.housekeeping") as details:
        details["console_sessions"] = services.prune_console_sessions()
        details["cache_rows"] = services.prune_database_cache()
        details["task_runs"] = services.prune_task_runs()
    return details
