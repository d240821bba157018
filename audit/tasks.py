"""Worker tasks of the audit log: take ids, call one service."""

from celery import shared_task

from audit import services


@shared_task(name="audit.verify_integrity")
def verify_integrity(check_id: int) -> None:
    services.integrity_check_run(check_id)
