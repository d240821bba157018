"""Console sessions operators can see and end, and the one-click lockdown of a user.

A session row is written when a sign-in completes; the console middleware checks it on every
request, so ending it (logout, an operator, a lockdown) takes effect on the next request.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AccessKey, ConsoleSession, User
from audit.services import event_record
from policies.guards import require
from policies.principal import Principal, RequestMeta

SESSION_FIELD = "console_session_id"


def console_session_start(
    session: SessionBase, user: User, *, mfa: bool, meta: RequestMeta
) -> ConsoleSession:
    row = ConsoleSession.objects.create(
        public_id=f"cs-{secrets.token_hex(8)}",
        account_id=user.account_id,
        user=user,
        session_key=session.session_key or "",
        source_ip=meta.source_ip,
        user_agent=meta.user_agent[:512],
        mfa=mfa,
        expires_at=timezone.now() + timedelta(seconds=session.get_expiry_age()),
    )
    session[SESSION_FIELD] = row.public_id
    event_record(
        action="console:StartSession",
        account=user.account_id,
        actor_arn=user.arn,
        actor_kind=user.kind,
        meta=meta,
        target_arn=user.arn,
        details={"session": row.public_id, "mfa": mfa},
    )
    return row


def console_session_valid(session: SessionBase) -> bool:
    """False when the session's row was ended (sessions from before tracking have none)."""
    public_id = session.get(SESSION_FIELD)
    if not public_id:
        return True
    return ConsoleSession.objects.filter(public_id=public_id, ended_at=None).exists()


def console_session_end(session: SessionBase, reason: str) -> None:
    public_id = session.get(SESSION_FIELD)
    if public_id:
        ConsoleSession.objects.filter(public_id=public_id, ended_at=None).update(
            ended_at=timezone.now(), ended_reason=reason
        )


def active_console_sessions(account_id: int) -> QuerySet[ConsoleSession]:
    return (
        ConsoleSession.objects.filter(
            account_id=account_id, ended_at=None, expires_at__gt=timezone.now()
        )
        .select_related("user")
        .order_by("-created_at")
    )


def _end_rows(rows: QuerySet[ConsoleSession], reason: str) -> list[str]:
    """Mark ended and delete the stored sessions (the middleware would refuse them anyway)."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = list(rows.filter(ended_at=None).values_list("public_id", "session_key"))
    rows.filter(ended_at=None).update(ended_at=timezone.now(), ended_reason=reason)
    for _, key in ended:
        if key:
            store(session_key=key).delete()
    return [public_id for public_id, _ in ended]


def console_session_terminate(*, actor: Principal, row: ConsoleSession) -> None:
    require(actor, "ram:TerminateConsoleSession", row.user.resource_arn)
    with transaction.atomic():
        ended = _end_rows(ConsoleSession.objects.filter(pk=row.pk), "terminated")
        event_record(
            actor=actor,
            action="ram:TerminateConsoleSession",
            target_arn=row.user.arn,
            details={"session": row.public_id, "was_active": bool(ended)},
        )


def user_lockdown(*, actor: Principal, user: User, reason: str) -> dict[str, int]:
    """Incident response in one step: no console sign-in, sessions ended, AccessKeys inactive,
    STS sessions the user started (and sessions chained from them) revoked."""
    from sts.models import StsSession

    require(actor, "ram:LockdownUser", user.resource_arn)
    if user.is_root:
        from accounts.errors import InvalidParameter

        raise InvalidParameter(
            "InvalidParameter.UserName", "The root identity can't be locked down."
        )
    reason = reason.strip()[:256]
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        had_console = user.console_access
        user.console_access = False
        user.password_reset_required = False
        user.set_unusable_password()  # also invalidates sessions through the session auth hash
        user.locked_down_at = now
        user.lockdown_reason = reason
        user.save()
        sessions = _end_rows(ConsoleSession.objects.filter(user=user), "lockdown")
        keys = list(
            AccessKey.objects.filter(user=user, status="Active").values_list(
                "access_key_id", flat=True
            )
        )
        AccessKey.objects.filter(user=user, status="Active").update(status="Inactive")
        sources = {user.arn}
        revoked: list[str] = []
        while sources:
            live = StsSession.objects.filter(
                source_arn__in=sources, revoked_at=None, expires_at__gt=now
            ).select_related("account", "role")
            chained = {s.arn for s in live}
            ids = [s.pk for s in live]
            revoked += [s.access_key_id for s in live]
            StsSession.objects.filter(pk__in=ids).update(revoked_at=now)
            sources = chained
        summary = {
            "console_sessions": len(sessions),
            "access_keys": len(keys),
            "sts_sessions": len(revoked),
        }
        event_record(
            actor=actor,
            action="ram:LockdownUser",
            target_arn=user.arn,
            details={
                "reason": reason,
                "console_access_removed": had_console,
                "ended_sessions": sessions,
                "deactivated_keys": keys,
                "revoked_sts_keys": revoked,
            },
        )
    return summary
