"""Write audit events. Services call event_record inside their own transaction.

An event joins its account's hash chain in the caller's transaction: the chain head row is
bumped first (its row lock — the write lock on SQLite — orders concurrent appends), then the
event is inserted with the previous hash, then the head takes the new hash. If the caller's
transaction rolls back, the event and the head move back with it.
"""

from __future__ import annotations

import contextvars
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from audit.chain import GENESIS, event_hash, normalized_details
from audit.models import AuditEvent
from policies.principal import Principal, RequestMeta

SECRET_KEYS = {"password", "secret", "token", "accesskeysecret", "securitytoken", "signature"}

# How many events the current request has recorded (the API records a plain event for calls
# whose service recorded none, e.g. reads).
recorded: contextvars.ContextVar[int] = contextvars.ContextVar("audit_recorded", default=0)


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


def _text(value: str, limit: int) -> str:
    return value.replace("\x00", "")[:limit]


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
        details = dict(details or {})
        if actor.source_arn and "source_identity" not in details:
            details["source_identity"] = actor.source_arn
    meta = meta or RequestMeta()
    account_id = account.pk if isinstance(account, Account) else account
    account_id = account_id or None  # services belong to no account
    event = AuditEvent(
        occurred_at=timezone.now(),
        account_id=account_id,
        actor_arn=_text(actor_arn, 512),
        actor_kind=actor_kind,
        credential=_text(actor.credential, 128) if actor else "",
        action=_text(action, 128),
        target_arn=_text(target_arn, 512),
        outcome=outcome,
        error_code=_text(error_code, 128),
        source_ip=meta.source_ip,
        user_agent=_text(meta.user_agent, 512),
        request_id=meta.request_id,
        mfa_present=actor.mfa_present if actor else False,
        details=normalized_details(_scrub(details or {})),
        chain=account_id or 0,
    )
    _append(event)
    recorded.set(recorded.get() + 1)
    return event


@cache
def _insert_sql() -> tuple[str, tuple[Any, ...]]:
    fields = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = quote(AuditEvent._meta.db_table)
    # Identifiers come from the model's own metadata, values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {quote('id')}"  # noqa: S608
    return sql, fields


HEAD_CREATE = (
    "INSERT INTO audit_auditchainhead (chain, seq, head_hash) VALUES (%s, 0, %s) "
    "ON CONFLICT (chain) DO NOTHING"
)
HEAD_BUMP = (
    "UPDATE audit_auditchainhead SET seq = seq + 1 WHERE chain = %s RETURNING seq, head_hash"
)
HEAD_SET = "UPDATE audit_auditchainhead SET head_hash = %s WHERE chain = %s"


def _append(event: AuditEvent) -> None:
    """Link and insert the event (raw SQL: this runs on every API call)."""
    sql, fields = _insert_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(HEAD_BUMP, [event.chain])
        head = cursor.fetchone()
        if head is None:
            cursor.execute(HEAD_CREATE, [event.chain, GENESIS])
            cursor.execute(HEAD_BUMP, [event.chain])
            head = cursor.fetchone()
        event.seq, event.prev_hash = head
        # Stamped under the chain lock: within an account, time order = seq order = id order,
        # which lets time filters become id ranges (audit.selectors.events_for).
        event.occurred_at = timezone.now()
        event.hash = event_hash(event.prev_hash, event.__dict__)
        cursor.execute(
            sql, [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
        )
        event.pk = cursor.fetchone()[0]
        cursor.execute(HEAD_SET, [event.hash, event.chain])
    event._state.adding = False
    event._state.db = connection.alias


def integrity_check_request(*, actor: Principal) -> Any:
    """Queue a verification of the actor's account chain (the worker runs it)."""
    from audit.integrity import chain_length
    from audit.models import IntegrityCheck
    from policies.guards import require

    require(actor, "audit:VerifyIntegrity", f"acs:audit:*:{actor.account_uid}:event/*")
    with transaction.atomic():
        check = IntegrityCheck.objects.create(
            account_id=actor.account_id,
            requested_by=actor.arn,
            total=chain_length(actor.account_id),
        )
        event_record(
            actor=actor,
            action="audit:VerifyIntegrity",
            target_arn=f"acs:audit:*:{actor.account_uid}:event/*",
            details={"check": check.pk, "stage": "requested"},
        )
        transaction.on_commit(lambda: _enqueue_check(check.pk))
    return check


def _enqueue_check(check_id: int) -> None:
    from audit.tasks import verify_integrity

    verify_integrity.delay(check_id)


def integrity_check_run(check_id: int) -> None:
    """Walk the chain, saving progress every batch; record the verdict."""
    from audit.integrity import verify_chain
    from audit.models import IntegrityCheck

    claimed = IntegrityCheck.objects.filter(pk=check_id, status="queued").update(status="running")
    if not claimed:
        return  # already run (a redelivered task)
    check = IntegrityCheck.objects.select_related("account").get(pk=check_id)

    def progress(checked: int) -> None:
        IntegrityCheck.objects.filter(pk=check_id).update(checked=checked)

    try:
        verdict = verify_chain(check.account_id, progress)
    except Exception:
        IntegrityCheck.objects.filter(pk=check_id).update(
            status="failed", message="The check could not finish.", finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        IntegrityCheck.objects.filter(pk=check_id).update(
            status="intact" if verdict.intact else "broken",
            checked=verdict.checked,
            total=max(check.total, verdict.checked),
            broken_seq=verdict.broken_seq,
            broken_event_id=verdict.broken_event_id,
            message=verdict.summary()[:512],
            finished_at=timezone.now(),
        )
        event_record(
            action="audit:VerifyIntegrity",
            account=check.account,
            actor_arn=check.requested_by,
            actor_kind="worker",
            target_arn=f"acs:audit:*:{check.account.uid}:event/*",
            outcome="success" if verdict.intact else "error",
            error_code="" if verdict.intact else "AuditChainBroken",
            details={
                "check": check_id,
                "checked": verdict.checked,
                "broken_seq": verdict.broken_seq,
            },
        )


def retention_set(*, actor: Principal, days: int) -> None:
    """Change how long the account keeps events online (older ones are archived, then pruned)."""
    from policies.guards import require

    resource = f"acs:audit:*:{actor.account_uid}:event/*"
    require(actor, "audit:SetRetention", resource)
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=actor.account_id)
        before = account.audit_retention_days
        Account.objects.filter(pk=account.pk).update(audit_retention_days=days)
        event_record(
            actor=actor,
            action="audit:SetRetention",
            target_arn=resource,
            details=changes({"retention_days": before}, {"retention_days": days}),
        )
