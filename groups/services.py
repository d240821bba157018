"""Writes for groups and memberships; membership changes bump the account's authz version."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.arns import ram_resource
from accounts.errors import Conflict, NotFound
from accounts.ids import numeric_id
from accounts.models import User
from accounts.services import authz_version_bump
from accounts.validation import check_name, check_text
from audit.services import event_record
from groups.models import Group, GroupMembership
from policies.guards import require
from policies.principal import Principal


def group_create(*, actor: Principal, name: str, comments: str = "") -> Group:
    check_name(name, "GroupName")
    require(actor, "ram:CreateGroup", ram_resource(actor.account_uid, "group", name))
    check_text(comments, "Comments")
    if Group.objects.filter(account_id=actor.account_id, name__iexact=name).exists():
        raise Conflict("EntityAlreadyExists.Group", f"The group {name} does already exist.")
    limit = settings.IAM_LIMITS["groups_per_account"]
    if Group.objects.filter(account_id=actor.account_id).count() >= limit:
        raise Conflict("LimitExceeded.Group", f"An account can have at most {limit} groups.")
    try:
        with transaction.atomic():
            group = Group.objects.create(
                account_id=actor.account_id, group_id=numeric_id(18), name=name, comments=comments
            )
            event_record(
                actor=actor,
                action="ram:CreateGroup",
                target_arn=group.arn,
                details={"comments": comments},
            )
    except IntegrityError as exc:
        raise Conflict(
            "EntityAlreadyExists.Group", f"The group {name} does already exist."
        ) from exc
    return group


def group_update(
    *, actor: Principal, group: Group, new_name: str = "", new_comments: str | None = None
) -> Group:
    require(actor, "ram:UpdateGroup", group.resource_arn)
    before = {"name": group.name, "comments": group.comments}
    if new_name and new_name != group.name:
        check_name(new_name, "NewGroupName")
        clash = Group.objects.filter(account_id=group.account_id, name__iexact=new_name)
        if clash.exclude(pk=group.pk).exists():
            raise Conflict("EntityAlreadyExists.Group", f"The group {new_name} does already exist.")
        group.name = new_name
    if new_comments is not None:
        group.comments = check_text(new_comments, "NewComments")
    after = {"name": group.name, "comments": group.comments}
    with transaction.atomic():
        group.save()
        authz_version_bump(group.account_id)
        event_record(
            actor=actor,
            action="ram:UpdateGroup",
            target_arn=group.arn,
            details={"before": before, "after": after},
        )
    return group


def group_delete(*, actor: Principal, group: Group, force: bool = False) -> None:
    """Delete a group; without force, refuse while it has members or policies."""
    require(actor, "ram:DeleteGroup", group.resource_arn)
    members = list(group.memberships.values_list("user__name", flat=True))
    policies = list(group.policy_attachments.values_list("policy__name", flat=True))
    if not force and members:
        raise Conflict("DeleteConflict.Group.User", f"The group {group.name} still has members.")
    if not force and policies:
        raise Conflict("DeleteConflict.Group.Policy", f"The group {group.name} has policies.")
    arn = group.arn
    with transaction.atomic():
        group.delete()
        authz_version_bump(actor.account_id)
        event_record(
            actor=actor,
            action="ram:DeleteGroup",
            target_arn=arn,
            details={"members": members, "policies": policies},
        )


def group_add_user(*, actor: Principal, group: Group, user: User) -> GroupMembership:
    require(actor, "ram:AddUserToGroup", group.resource_arn)
    if user.account_id != group.account_id or user.is_root:
        raise NotFound("EntityNotExist.User", "The user does not exist.")
    if GroupMembership.objects.filter(group=group, user=user).exists():
        raise Conflict("EntityAlreadyExists.User.Group", f"{user.name} is already in {group.name}.")
    limit = settings.IAM_LIMITS["groups_per_user"]
    if user.group_memberships.count() >= limit:
        raise Conflict("LimitExceeded.User.Group", f"A user can be in at most {limit} groups.")
    try:
        with transaction.atomic():
            membership = GroupMembership.objects.create(group=group, user=user)
            authz_version_bump(group.account_id)
            event_record(
                actor=actor,
                action="ram:AddUserToGroup",
                target_arn=group.arn,
                details={"user": user.name},
            )
    except IntegrityError as exc:  # a concurrent request added it first
        raise Conflict(
            "EntityAlreadyExists.User.Group", f"{user.name} is already in {group.name}."
        ) from exc
    return membership


def group_remove_user(*, actor: Principal, group: Group, user: User) -> None:
    """Remove a member; its rights from the group end with the next request."""
    require(actor, "ram:RemoveUserFromGroup", group.resource_arn)
    with transaction.atomic():
        deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
        if not deleted:
            raise NotFound("EntityNotExist.User.Group", f"{user.name} is not in {group.name}.")
        authz_version_bump(group.account_id)
        event_record(
            actor=actor,
            action="ram:RemoveUserFromGroup",
            target_arn=group.arn,
            details={"user": user.name},
        )
