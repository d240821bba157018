"""Writes for roles: create, update (trust policy changes audited with before/after), delete."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.errors import Conflict, InvalidParameter
from accounts.ids import numeric_id
from accounts.services import authz_version_bump
from accounts.validation import check_text
from audit.services import changes, event_record
from policies.guards import require
from policies.principal import Principal
from roles.models import Role
from roles.trust import check_trust_policy

ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9.-]{1,64}$")


def _check_name(name: str, param: str = "RoleName") -> str:
    if not ROLE_NAME_RE.match(name or ""):
        raise InvalidParameter(
            f"InvalidParameter.{param}.InvalidChars",
            f'The parameter - "{param}" must be 1 to 64 letters, digits, "." or "-".',
        )
    return name


def _check_duration(value: int) -> int:
    if not 3600 <= value <= 43200:
        raise InvalidParameter(
            "InvalidParameter.MaxSessionDuration",
            "MaxSessionDuration must be 3600 to 43200 seconds.",
        )
    return value


def role_create(
    *,
    actor: Principal,
    name: str,
    trust_policy: str,
    description: str = "",
    max_session_duration: int = 3600,
) -> Role:
    _check_name(name)
    require(actor, "ram:CreateRole", f"acs:ram:*:{actor.account_uid}:role/{name}")
    check_trust_policy(trust_policy)
    check_text(description, "Description", limit=1024)
    _check_duration(max_session_duration)
    if Role.objects.filter(account_id=actor.account_id, name__lower=name.lower()).exists():
        raise Conflict("EntityAlreadyExists.Role", f"The role {name} does already exist.")
    limit = settings.IAM_LIMITS["roles_per_account"]
    if Role.objects.filter(account_id=actor.account_id).count() >= limit:
        raise Conflict("LimitExceeded.Role", f"An account can have at most {limit} roles.")
    try:
        with transaction.atomic():
            role = Role.objects.create(
                account_id=actor.account_id,
                role_id=numeric_id(18),
                name=name,
                trust_policy=trust_policy,
                description=description,
                max_session_duration=max_session_duration,
            )
            event_record(
                actor=actor,
                action="ram:CreateRole",
                target_arn=role.arn,
                details={
                    "trust_policy": trust_policy,
                    "max_session_duration": max_session_duration,
                },
            )
    except IntegrityError as exc:
        raise Conflict("EntityAlreadyExists.Role", f"The role {name} does already exist.") from exc
    return Role.objects.select_related("account").get(pk=role.pk)


def role_update(
    *,
    actor: Principal,
    role: Role,
    trust_policy: str | None = None,
    description: str | None = None,
    max_session_duration: int | None = None,
) -> Role:
    """Change a role; a new trust policy is audited with the old and new documents."""
    require(actor, "ram:UpdateRole", role.resource_arn)
    fields = ("trust_policy", "description", "max_session_duration")
    before = {field: getattr(role, field) for field in fields}
    if trust_policy is not None:
        role.trust_policy = check_trust_policy(trust_policy)
    if description is not None:
        role.description = check_text(description, "NewDescription", limit=1024)
    if max_session_duration is not None:
        role.max_session_duration = _check_duration(max_session_duration)
    after = {field: getattr(role, field) for field in fields}
    with transaction.atomic():
        role.save()
        event_record(
            actor=actor,
            action="ram:UpdateRole",
            target_arn=role.arn,
            details=changes(before, after),
        )
    return role


def role_delete(*, actor: Principal, role: Role) -> None:
    """Delete a role; refused while policies are attached (DeleteConflict.Role.Policy)."""
    require(actor, "ram:DeleteRole", role.resource_arn)
    if role.policy_attachments.exists():
        raise Conflict(
            "DeleteConflict.Role.Policy",
            f"The role {role.name} still has policies; detach them first.",
        )
    arn = role.arn
    with transaction.atomic():
        role.delete()
        authz_version_bump(actor.account_id)
        event_record(actor=actor, action="ram:DeleteRole", target_arn=arn)
