from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.errors import NotFound
from policies.guards import require
from policies.principal import Principal
from roles.models import Role
from sts.models import StsSession

# A registered service's sessions name it as their source: `acs:ram:::service/<name>`.
SERVICE_SOURCE_PREFIX = "acs:ram:::service/"


def roles_for(actor: Principal) -> QuerySet[Role]:
    require(actor, "ram:ListRoles", f"acs:ram:*:{actor.account_uid}:role/*")
    return Role.objects.filter(account_id=actor.account_id).select_related("account")


def get_role_for_actor(actor: Principal, name: str, action: str = "ram:GetRole") -> Role:
    role = next(
        iter(
            Role.objects.select_related("account").filter(
                account_id=actor.account_id, name__lower=(name or "").lower()
            )[:1]
        ),
        None,
    )
    # Permission first (403 whether or not it exists), then 404.
    resource = role.resource_arn if role else f"acs:ram:*:{actor.account_uid}:role/{name}"
    require(actor, action, resource)
    if role is None:
        raise NotFound("EntityNotExist.Role", f"The role does not exist: {name}.")
    return role


def live_sessions(role: Role) -> QuerySet[StsSession]:
    """The role's sessions that still work: unexpired, unrevoked, issued after its last
    revoke-all; newest first."""
    sessions = StsSession.objects.filter(role=role, revoked_at=None, expires_at__gt=timezone.now())
    if role.sessions_valid_after:
        sessions = sessions.filter(created_at__gte=role.sessions_valid_after)
    return sessions.order_by("-created_at")


@dataclass(frozen=True)
class ServiceUse:
    """A registered service that assumed the role: when it last did, its sessions still live."""

    name: str
    last_assumed: datetime
    live: list[StsSession]


def services_of_role(role: Role, *, limit: int = 50) -> list[ServiceUse]:
    """The services that assumed the role (from its sessions' source ARNs), most recent first."""
    rows = (
        StsSession.objects.filter(role=role, source_arn__startswith=SERVICE_SOURCE_PREFIX)
        .values("source_arn")
        .annotate(last=Max("created_at"))
        .order_by("-last")[:limit]
    )
    last_by_arn = {row["source_arn"]: row["last"] for row in rows}
    live: dict[str, list[StsSession]] = {arn: [] for arn in last_by_arn}
    for session in live_sessions(role).filter(source_arn__in=list(last_by_arn))[:500]:
        live[session.source_arn].append(session)
    return [
        ServiceUse(arn[len(SERVICE_SOURCE_PREFIX) :], last, live[arn])
        for arn, last in last_by_arn.items()
    ]
