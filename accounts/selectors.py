"""Reads of users, scoped to the actor's account and checked with the policy engine."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.arns import ram_resource
from accounts.errors import NotFound
from accounts.models import User
from groups.models import GroupMembership
from policies.guards import require
from policies.principal import Principal, RequestMeta


def users_for(actor: Principal, query: str = "") -> QuerySet[User]:
    """The actor's account's RAM users (ListUsers), optionally filtered by a search string."""
    require(actor, "ram:ListUsers", ram_resource(actor.account_uid, "user"))
    users = User.objects.filter(account_id=actor.account_id, kind=User.Kind.RAM_USER)
    if query:
        users = users.filter(
            Q(name__icontains=query) | Q(display_name__icontains=query) | Q(email__icontains=query)
        )
    # A correlated subquery, not a GROUP BY: the paginator's COUNT(*) then skips it.
    memberships = (
        GroupMembership.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(count=Count("id"))
        .values("count")
    )
    return users.annotate(group_count=Coalesce(Subquery(memberships), Value(0))).order_by("name")


def find_user(account_id: int, name: str) -> User:
    """A RAM user of the account by name, without a permission check (callers check)."""
    user = (
        User.objects.filter(account_id=account_id, kind=User.Kind.RAM_USER, name__iexact=name)
        .select_related("account")
        .first()
    )
    if user is None:
        raise NotFound("EntityNotExist.User", f"The user does not exist: {name}.")
    return user


def get_user_for_actor(actor: Principal, name: str, action: str = "ram:GetUser") -> User:
    """The named RAM user of the actor's account: 404 when absent, 403 when not permitted."""
    user = (
        User.objects.filter(account_id=actor.account_id, kind=User.Kind.RAM_USER, name__iexact=name)
        .select_related("account")
        .first()
    )
    if user is None:
        raise NotFound("EntityNotExist.User", f"The user does not exist: {name}.")
    require(actor, action, user.resource_arn)
    return user


def principal_for_user(
    user: User,
    *,
    mfa_present: bool = False,
    credential: str = "",
    meta: RequestMeta | None = None,
) -> Principal:
    """The Principal a user (root or RAM user) acts as, at its account's current authz_version."""
    return Principal(
        account_id=user.account_id,
        account_uid=user.account.uid,
        kind="root" if user.is_root else "user",
        arn=user.arn,
        name=user.name,
        user_pk=user.pk,
        authz_version=user.account.authz_version,
        mfa_present=mfa_present,
        credential=credential,
        meta=meta or RequestMeta(),
    )


def administrator_exists(account_id: int) -> bool:
    """Whether a RAM user of the account holds AdministratorAccess, directly or via a group."""
    from policies.models import PolicyAttachment

    admin = PolicyAttachment.objects.filter(
        account_id=account_id, policy__account__isnull=True, policy__name="AdministratorAccess"
    )
    return admin.filter(Q(user__isnull=False) | Q(group__memberships__isnull=False)).exists()
