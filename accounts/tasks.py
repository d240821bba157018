"""The AccessKey rotation policy, run by the worker: calls the service for each account."""

from celery import shared_task

from accounts.rotation import accounts_to_check, enforce
from housekeeping.services import task_run


@shared_task(name="accounts.tasks.enforce_key_rotation")
def enforce_key_rotation() -> dict:
    with task_run("accounts.tasks.enforce_key_rotation") as details:
        counts: dict[str, int] = {}
        for account_id in accounts_to_check():
            for action in enforce(account_id):
                counts[action.kind] = counts.get(action.kind, 0) + 1
        details.update(counts)
    return details
