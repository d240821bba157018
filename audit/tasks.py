"""Worker tasks of the audit log: take ids, call one service."""

from celery import shared_task

from audit import services


@shared_task(name="audit.verify_integrity")
def verify_integrity(check_id: int) -> None:
    services.integrity_check_run(check_id)


@shared_task(name="audit.archive_expired_events")
def archive_expired_events() -> dict:
    from audit.retention import archive_all
    from housekeeping.services import task_run

    with task_run("audit.archive_expired_events") as details:
        results = archive_all()
        details["archived"] = sum(r.events for r in results)
        details["pruned"] = sum(r.pruned for r in results)
        details["errors"] = [f"{r.account}: {r.error}" for r in results if r.error]
    return details
