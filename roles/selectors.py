from __future__ import annotations

from django.db.models import QuerySet

from accounts.errors import NotFound
from policies.guards import require
from policies.principal import Principal
from roles.models import Role


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
    if role is None:
        raise NotFound("EntityNotExist.Role", f"The role does not exist: {name}.")
    require(actor, action, role.resource_arn)
    return role
