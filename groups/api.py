"""RAM API actions for groups and membership."""

from __future__ import annotations

from typing import Any

from accounts.selectors import find_user, get_user_for_actor
from groups import selectors, services
from groups.models import Group
from openapi.params import iso, page
from openapi.registry import RAM, ApiCall, action


def group_json(group: Group, *, update: bool = True) -> dict[str, Any]:
    body = {
        "GroupId": group.group_id,
        "GroupName": group.name,
        "Comments": group.comments,
        "CreateDate": iso(group.created_at),
    }
    if update:
        body["UpdateDate"] = iso(group.updated_at)
    return body


def _group(call: ApiCall, action_name: str = "ram:GetGroup") -> Group:
    name = call.params.text("GroupName", required=True)
    return selectors.get_group_for_actor(call.principal, name, action=action_name)


@action(RAM, "CreateGroup")
def create_group(call: ApiCall) -> dict[str, Any]:
    group = services.group_create(
        actor=call.principal,
        name=call.params.text("GroupName", required=True),
        comments=call.params.text("Comments"),
    )
    return {"Group": group_json(group, update=False)}


@action(RAM, "GetGroup")
def get_group(call: ApiCall) -> dict[str, Any]:
    return {"Group": group_json(_group(call))}


@action(RAM, "UpdateGroup")
def update_group(call: ApiCall) -> dict[str, Any]:
    group = services.group_update(
        actor=call.principal,
        group=_group(call, "ram:UpdateGroup"),
        new_name=call.params.text("NewGroupName"),
        new_comments=call.params.optional("NewComments"),
    )
    return {"Group": group_json(group)}


@action(RAM, "DeleteGroup")
def delete_group(call: ApiCall) -> dict[str, Any]:
    services.group_delete(actor=call.principal, group=_group(call, "ram:DeleteGroup"))
    return {}


@action(RAM, "ListGroups")
def list_groups(call: ApiCall) -> dict[str, Any]:
    items, info = page(call.params, selectors.groups_for(call.principal), "name", max_limit=1000)
    return {**info, "Groups": {"Group": [group_json(g) for g in items]}}


@action(RAM, "AddUserToGroup")
def add_user_to_group(call: ApiCall) -> dict[str, Any]:
    group = _group(call, "ram:AddUserToGroup")
    user = find_user(call.principal.account_id, call.params.text("UserName", required=True))
    services.group_add_user(actor=call.principal, group=group, user=user)
    return {}


@action(RAM, "RemoveUserFromGroup")
def remove_user_from_group(call: ApiCall) -> dict[str, Any]:
    group = _group(call, "ram:RemoveUserFromGroup")
    user = find_user(call.principal.account_id, call.params.text("UserName", required=True))
    services.group_remove_user(actor=call.principal, group=group, user=user)
    return {}


@action(RAM, "ListGroupsForUser")
def list_groups_for_user(call: ApiCall) -> dict[str, Any]:
    user = get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), action="ram:ListGroupsForUser"
    )
    return {
        "Groups": {
            "Group": [
                {
                    "GroupId": m.group.group_id,
                    "GroupName": m.group.name,
                    "Comments": m.group.comments,
                    "JoinDate": iso(m.joined_at),
                }
                for m in selectors.memberships_of(user)
            ]
        }
    }


@action(RAM, "ListUsersForGroup")
def list_users_for_group(call: ApiCall) -> dict[str, Any]:
    group = _group(call, "ram:ListUsersForGroup")
    members = group.memberships.select_related("user")
    items, info = page(call.params, members, "user__name", key=lambda m: m.user.name)
    return {
        **info,
        "Users": {
            "User": [
                {
                    "UserName": m.user.name,
                    "DisplayName": m.user.display_name,
                    "JoinDate": iso(m.joined_at),
                }
                for m in items
            ]
        },
    }
