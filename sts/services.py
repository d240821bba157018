"""AssumeRole: both the caller's own policies and the role's trust policy must allow it.

The session's secret is sealed at rest (signatures need it); the SecurityToken is kept only
as a keyed digest. Expiry and revocation are checked at every use (openapi.auth), so nothing
depends on a worker running.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.crypto import encrypt, keyed_digest, keyed_digest_matches
from accounts.errors import IamError, InvalidParameter, NotFound
from audit.services import event_record
from policies.authorization import authorize
from policies.engine import Effect, PolicyError, parse_policy
from policies.principal import Principal
from roles.models import Role
from roles.trust import parse_trust_policy, trust_decision
from sts.models import StsSession

ROLE_ARN_RE = re.compile(r"^acs:ram::(\d{16}):role/([A-Za-z0-9.-]{1,64})$")
SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
CHAINED_MAX_SECONDS = 3600
ROOT_CANNOT_ASSUME = (
    "You are not authorized to do this action: the root identity can't assume roles. Use a "
    "RAM user with the AliyunSTSAssumeRoleAccess policy (or sts:AssumeRole on the role)."
)
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Credentials:
    session: StsSession
    secret: str
    token: str


TOKEN_DIGEST_PURPOSE = "sts-token:"


def token_digest(token: str) -> str:
    """The stored form of a SecurityToken: keyed with the current SECRET_KEY."""
    return keyed_digest(TOKEN_DIGEST_PURPOSE, token)


def token_matches(token: str, stored: str) -> bool:
    """Whether `token` is the one digested as `stored`, under SECRET_KEY or a fallback."""
    return keyed_digest_matches(TOKEN_DIGEST_PURPOSE, token, stored)


def _find_role(role_arn: str) -> Role:
    match = ROLE_ARN_RE.match(role_arn or "")
    if not match:
        raise InvalidParameter(
            "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed."
        )
    uid, name = match.groups()
    role = (
        Role.objects.select_related("account")
        .filter(account__uid=uid, name__lower=name.lower())
        .first()
    )
    if role is None:
        raise NotFound("EntityNotExist.Role", "The specified Role not exists.")
    return role


def _refuse_unless_identity_allows(actor: Principal, role_arn: str) -> None:
    """A caller whose own policies don't allow sts:AssumeRole on the named role is refused the
    same way whether the role exists or not. A service has no identity policies (the role's
    trust naming it is the whole grant), so this is for RAM principals."""
    match = ROLE_ARN_RE.match(role_arn or "")
    if match is None or actor.kind == "service":
        return
    uid, name = match.groups()
    if authorize(actor, "sts:AssumeRole", f"acs:ram:*:{uid}:role/{name}").allowed:
        return
    event_record(
        actor=actor,
        action="sts:AssumeRole",
        target_arn=role_arn[:512],
        outcome="denied",
        error_code="NoPermission",
        details={"identity": False},
    )
    raise IamError(
        "NoPermission",
        "You are not authorized to do this action. You should be authorized by RAM: your "
        f"policies don't allow sts:AssumeRole on it ({role_arn}).",
        status=403,
    )


def _duration(caller: Principal, role: Role, requested: int | None) -> int:
    duration = requested or 3600
    ceiling = role.max_session_duration
    if caller.kind == "role-session":
        ceiling = min(ceiling, CHAINED_MAX_SECONDS)  # role chaining is capped at one hour
    if not 900 <= duration <= ceiling:
        raise InvalidParameter(
            "InvalidParameter.DurationSeconds",
            f"The Min/Max value of DurationSeconds is 900/{ceiling} seconds for this role"
            + (" (role chaining is capped at 3600)." if caller.kind == "role-session" else "."),
        )
    return duration


def _session_policy(text: str) -> str:
    if not text:
        return ""
    if len(text) > 2048:
        raise InvalidParameter(
            "InvalidParameter.PolicySize", "The session policy is longer than 2048 characters."
        )
    try:
        return parse_policy(text, max_chars=2048).canonical
    except PolicyError as exc:
        raise InvalidParameter("InvalidParameter.PolicyGrammar", str(exc)) from exc


def assume_role(
    *,
    actor: Principal,
    role_arn: str,
    session_name: str,
    duration: int | None = None,
    policy: str = "",
    external_id: str = "",
) -> Credentials:
    """Issue temporary credentials for `role_arn` to `actor` (AssumeRole)."""
    if actor.is_root:
        raise IamError("NoPermission", ROOT_CANNOT_ASSUME, status=403)
    if not SESSION_NAME_RE.match(session_name or ""):
        raise InvalidParameter(
            "InvalidParameter.RoleSessionName",
            "RoleSessionName is 2 to 64 letters, digits or . @ _ -.",
        )
    if external_id and not EXTERNAL_ID_RE.match(external_id):
        raise InvalidParameter("InvalidParameter.ExternalId", "The ExternalId is not valid.")
    _refuse_unless_identity_allows(actor, role_arn)  # before the role's existence shows
    role = _find_role(role_arn)
    seconds = _duration(actor, role, duration)
    canonical_policy = _session_policy(policy)
    context = {**actor.context()}
    if external_id:
        context["sts:externalid"] = external_id
    # A service has no identity policies: the role's trust naming it is the whole grant.
    identity_allowed = (
        actor.kind == "service" or authorize(actor, "sts:AssumeRole", role.resource_arn).allowed
    )
    trust = trust_decision(parse_trust_policy(role.trust_policy), actor, context)
    if not identity_allowed or trust is not Effect.ALLOW:
        why = (
            "your policies don't allow sts:AssumeRole on it"
            if not identity_allowed
            else "its trust policy doesn't trust you"
        )
        event_record(
            actor=actor,
            action="sts:AssumeRole",
            target_arn=role.arn,
            outcome="denied",
            error_code="NoPermission",
            account=role.account_id if actor.kind == "service" else None,
            details={"identity": identity_allowed, "trust": trust.value},
        )
        raise IamError(
            "NoPermission",
            f"You are not authorized to do this action. You should be authorized by "
            f"RAM: {why} ({role.arn}).",
            status=403,
        )
    return _issue(actor, role, session_name, seconds, canonical_policy)


def _issue(
    actor: Principal,
    role: Role,
    session_name: str,
    seconds: int,
    policy: str,
    *,
    action: str = "sts:AssumeRole",
    extra: dict[str, Any] | None = None,
) -> Credentials:
    key_id = "STS." + "".join(secrets.choice(_ALNUM) for _ in range(24))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(40))
    token = secrets.token_urlsafe(96)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        session = StsSession.objects.create(
            access_key_id=key_id,
            secret_sealed=encrypt(secret, context=key_id),
            token_digest=token_digest(token),
            account=role.account,
            role=role,
            session_name=session_name,
            session_policy=policy,
            source_arn=actor.arn,
            source_account_uid=actor.account_uid,
            source_ip=actor.meta.source_ip,
            chained=actor.kind == "role-session",
            expires_at=now + timedelta(seconds=seconds),
        )
        details = {
            "access_key_id": key_id,
            "session": session_name,
            "duration": seconds,
            "source": actor.arn,
            "session_policy": bool(policy),
            **(extra or {}),
        }
        if actor.kind != "service":  # services belong to no account
            event_record(actor=actor, action=action, target_arn=role.arn, details=details)
        if role.account_id != actor.account_id:  # the role's owner sees it in its own trail
            event_record(
                actor=actor,
                account=role.account_id,
                action=action,
                target_arn=role.arn,
                details=details,
            )
    return Credentials(session, secret, token)


def revoke_session(*, actor: Principal, session: StsSession) -> None:
    from policies.guards import require

    require(actor, "sts:RevokeSession", session.role.resource_arn)
    with transaction.atomic():
        StsSession.objects.filter(pk=session.pk, revoked_at=None).update(revoked_at=timezone.now())
        event_record(
            actor=actor,
            action="sts:RevokeSession",
            target_arn=session.arn,
            details={"access_key_id": session.access_key_id},
        )


def revoke_role_sessions(*, actor: Principal, role: Role) -> int:
    """Every session of the role issued before now stops working at once."""
    from policies.guards import require

    require(actor, "sts:RevokeSession", role.resource_arn)
    now = timezone.now()
    with transaction.atomic():
        Role.objects.filter(pk=role.pk).update(sessions_valid_after=now)
        count = StsSession.objects.filter(role=role, revoked_at=None, expires_at__gt=now).update(
            revoked_at=now
        )
        event_record(
            actor=actor,
            action="sts:RevokeRoleSessions",
            target_arn=role.arn,
            details={"revoked": count},
        )
    return count


EXPIRY_BATCH = 10_000


def sessions_expire(*, retention_days: int, batch_size: int = EXPIRY_BATCH) -> dict[str, int]:
    """Mark expired sessions and purge those past retention, in batches.

    Each batch is one conditional UPDATE (…WHERE expired_marked_at IS NULL) or DELETE, so
    several workers never count a row twice; one audit event per batch with its counts.
    """
    now = timezone.now()
    marked = _in_batches(
        StsSession.objects.filter(expired_marked_at=None, expires_at__lte=now),
        lambda rows: rows.update(expired_marked_at=now),
        "sts:MarkExpiredSessions",
        batch_size,
    )
    cutoff = now - timedelta(days=retention_days)
    purged = _in_batches(
        StsSession.objects.filter(expires_at__lt=cutoff),
        lambda rows: rows.delete()[0],
        "sts:PurgeExpiredSessions",
        batch_size,
    )
    return {"marked": marked, "purged": purged}


def _in_batches(queryset: Any, apply: Any, action: str, batch_size: int) -> int:
    """Apply `apply` to batches of `queryset` until nothing is left (or another worker took
    the rest); one audit event per batch."""
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        with transaction.atomic():
            done = apply(queryset.filter(pk__in=ids))
            if done:
                event_record(action=action, actor_kind="worker", details={"rows": done})
        total += done
        if done == 0:
            return total
