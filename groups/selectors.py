from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.arns import ram_resource
from accounts.errors import NotFound
from accounts.models import User
from groups.models import Group, GroupMembership
from policies.guards import require
from policies.principal import Principal


def groups_for(actor: Principal, query: str = "") -> QuerySet[Group]:
    require(actor, "ram:ListGroups", ram_resource(actor.account_uid, "group"))
    groups = Group.objects.filter(account_id=actor.account_id)
    if query:
        groups = groups.filter(Q(name__icontains=query) | Q(comments__icontains=query))
    return groups.annotate(member_count=Count("memberships")).order_by("name")


def get_group_for_actor(actor: Principal, name: str, action: str = "ram:GetGroup") -> Group:
    group = (
        Group.objects.filter(account_id=actor.account_id, name__lower=name.lower())
        .select_related("account")
        .first()
    )
    # Permission first (403 whether or not it exists), then 404.
    resource = group.resource_arn if group else f"acs:ram:*:{actor.account_uid}:group/{name}"
    require(actor, action, resource)
    if group is None:
        raise NotFound("EntityNotExist.Group", f"The group does not exist: {name}.")
    return group


def members_of(group: Group) -> QuerySet[GroupMembership]:
    return group.memberships.select_related("user").order_by("user__name")


def memberships_of(user: User) -> QuerySet[GroupMembership]:
    return user.group_memberships.select_related("group").order_by("group__name")
