"""STS session expiry: takes no arguments, calls one service, records the run."""

from celery import shared_task
from django.conf import settings

from housekeeping.services import task_run
from sts.services import sessions_expire


@shared_task(name="sts.tasks.expire_sessions")
def expire_sessions() -> dict:
    with task_run("sts.tasks.expire_sessions") as details:
        details.update(sessions_expire(retention_days=settings.IAM_STS_RETENTION_DAYS))
    return details
