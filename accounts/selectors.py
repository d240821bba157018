"""Reads of users, scoped to the actor's account and checked with the policy engine."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.arns import ram_resource
from accounts.errors import NotFound
from accounts.models import AccessKey, Account, User
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


def _lookup_user(account_id: int, name: str) -> User | None:
    # The manager joins the account; slicing instead of first() skips an ORDER BY.
    found = User.objects.filter(
        account_id=account_id, kind=User.Kind.RAM_USER, name__lower=name.lower()
    )
    return next(iter(found[:1]), None)


def find_user(account_id: int, name: str) -> User:
    """A RAM user of the account by name, without a permission check (callers check)."""
    user = _lookup_user(account_id, name)
    if user is None:
        raise NotFound("EntityNotExist.User", f"The user does not exist: {name}.")
    return user


def get_user_for_actor(actor: Principal, name: str, action: str = "ram:GetUser") -> User:
    """The named RAM user of the actor's account. Permission is decided first (403 whether
    or not the user exists, so a caller without it learns nothing), then 404 when absent."""
    user = _lookup_user(actor.account_id, name)
    resource = user.resource_arn if user else ram_resource(actor.account_uid, "user", name)
    require(actor, action, resource)
    if user is None:
        raise NotFound("EntityNotExist.User", f"The user does not exist: {name}.")
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


@dataclass(frozen=True)
class KeyRecord:
    """What authenticating one signed request needs to know about its AccessKey."""

    pk: int
    access_key_id: str
    secret_sealed: str
    status: str
    user_pk: int
    user_kind: str
    user_name: str
    programmatic_access: bool
    account_id: int
    account_uid: str
    authz_version: int

    @property
    def is_active(self) -> bool:
        return self.status == AccessKey.Status.ACTIVE

    def principal(self, meta: RequestMeta) -> Principal:
        root = self.user_kind == User.Kind.ROOT
        arn = (
            f"acs:ram::{self.account_uid}:root"
            if root
            else f"acs:ram::{self.account_uid}:user/{self.user_name}"
        )
        return Principal(
            account_id=self.account_id,
            account_uid=self.account_uid,
            kind="root" if root else "user",
            arn=arn,
            name=self.user_name,
            user_pk=self.user_pk,
            authz_version=self.authz_version,
            credential=self.access_key_id,
            meta=meta,
        )


def _key_lookup_sql() -> str:
    key, user, account = (m._meta.db_table for m in (AccessKey, User, Account))
    # Table names come from the models, never from input; the key id is a bound parameter.
    return (
        f"SELECT k.id, k.access_key_id, k.secret_sealed, k.status, u.id, u.kind, u.name, "  # noqa: S608
        f"u.programmatic_access, a.id, a.uid, a.authz_version "
        f'FROM "{key}" k JOIN "{user}" u ON u.id = k.user_id '
        f'JOIN "{account}" a ON a.id = u.account_id WHERE k.access_key_id = %s'
    )


def access_key_record(access_key_id: str) -> KeyRecord | None:
    """The hot-path lookup of every signed request: one parameterised query, no ORM
    compilation (which costs ~25x the query itself here)."""
    with connection.cursor() as cursor:
        cursor.execute(_key_lookup_sql(), [access_key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    values[7] = bool(values[7])  # SQLite returns 0/1
    return KeyRecord(*values)
