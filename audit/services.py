"""Write audit events. Services call event_record inside their own transaction."""

from __future__ import annotations

from typing import Any

from accounts.models import Account
from audit.models import AuditEvent
from policies.principal import Principal, RequestMeta

SECRET_KEYS = {"password", "secret", "token", "accesskeysecret", "securitytoken", "signature"}


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    """Drop anything that looks like a secret; audit details never carry credentials."""
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if any(word in key.lower() for word in SECRET_KEYS):
            continue
        clean[key] = _scrub(value) if isinstance(value, dict) else value
    return clean


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The changed fields only, as an event's {"before": …, "after": …} details."""
    changed = [key for key in after if before.get(key) != after[key]]
    return {
        "before": {key: before.get(key) for key in changed},
        "after": {key: after[key] for key in changed},
    }


def event_record(
    *,
    action: str,
    actor: Principal | None = None,
    account: Account | int | None = None,
    actor_arn: str = "",
    actor_kind: str = "",
    meta: RequestMeta | None = None,
    target_arn: str = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    error_code: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. With an actor, account, ARN, credential and request meta come from it."""
    if actor is not None:
        account = account or actor.account_id
        actor_arn = actor_arn or actor.arn
        actor_kind = actor_kind or actor.kind
        meta = meta or actor.meta
    meta = meta or RequestMeta()
    account_id = account.pk if isinstance(account, Account) else account
    account_id = account_id or None  # services belong to no account
    return AuditEvent.objects.create(
        account_id=account_id,
        actor_arn=actor_arn[:512],
        actor_kind=actor_kind,
        credential=actor.credential if actor else "",
        action=action,
        target_arn=target_arn[:512],
        outcome=outcome,
        error_code=error_code,
        source_ip=meta.source_ip,
        user_agent=meta.user_agent[:512],
        request_id=meta.request_id,
        mfa_present=actor.mfa_present if actor else False,
        details=_scrub(details or {}),
    )
