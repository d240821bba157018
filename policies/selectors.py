"""Reads of policies, versions and attachments, scoped to an account."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from accounts.models import Account, User
from groups.models import Group
from policies.authorization import StatementSource
from policies.engine import ParsedPolicy, Statement, parse_policy
from policies.models import Policy, PolicyAttachment, PolicyVersion
from roles.models import Role


@lru_cache(maxsize=8192)
def parsed_version(version_pk: int, document: str) -> ParsedPolicy:
    """Versions are immutable, so their parsed form is cached for the process's life."""
    return parse_policy(document, max_chars=max(len(document), 1))


def statements_for_user(user_pk: int | None) -> list[tuple[Statement, StatementSource]]:
    """Every statement that applies to a user: its own attachments and its groups'."""
    if user_pk is None:
        return []
    attachments = (
        PolicyAttachment.objects.filter(Q(user_id=user_pk) | Q(group__memberships__user_id=user_pk))
        .select_related("policy", "group")
        .order_by("id")
    )
    rows = list(attachments)
    defaults = {
        v.policy_id: v
        for v in PolicyVersion.objects.filter(
            policy_id__in={a.policy_id for a in rows}, is_default=True
        )
    }
    result: list[tuple[Statement, StatementSource]] = []
    for attachment in rows:
        version = defaults.get(attachment.policy_id)
        if version is None:
            continue
        source = StatementSource(
            policy_name=attachment.policy.name,
            policy_type=attachment.policy.policy_type,
            version_id=version.version_id,
            via=f"group/{attachment.group.name}" if attachment.group else "",
        )
        parsed = parsed_version(version.pk, version.document)
        result.extend((statement, source) for statement in parsed.statements)
    return result


PRIVILEGED_PROBES = ("ram:AttachPolicyToUser", "ram:CreateAccessKey", "ram:CreateUser")


def is_privileged(policy: Policy) -> bool:
    """Whether the policy grants RAM administration (AdministratorAccess, ram:* and alike)."""
    from policies.engine import CompiledPolicySet, SourcedStatement

    version = policy.versions.filter(is_default=True).first()
    if version is None:
        return False
    parsed = parsed_version(version.pk, version.document)
    compiled = CompiledPolicySet(SourcedStatement(s, None) for s in parsed.statements)
    context = {"acs:mfapresent": True, "acs:securetransport": True}
    return all(compiled.decide(probe, "*", context).allowed for probe in PRIVILEGED_PROBES)


def statements_for_role(role_pk: int | None) -> list[tuple[Statement, StatementSource]]:
    """Every statement of the policies attached to a role."""
    if role_pk is None:
        return []
    rows = list(
        PolicyAttachment.objects.filter(role_id=role_pk).select_related("policy").order_by("id")
    )
    defaults = {
        v.policy_id: v
        for v in PolicyVersion.objects.filter(
            policy_id__in={a.policy_id for a in rows}, is_default=True
        )
    }
    result: list[tuple[Statement, StatementSource]] = []
    for attachment in rows:
        version = defaults.get(attachment.policy_id)
        if version is None:
            continue
        source = StatementSource(
            attachment.policy.name, attachment.policy.policy_type, version.version_id, ""
        )
        parsed = parsed_version(version.pk, version.document)
        result.extend((statement, source) for statement in parsed.statements)
    return result


def policies_visible_to(account: Account) -> QuerySet[Policy]:
    """System policies plus the account's custom ones, with attachment counts."""
    return (
        Policy.objects.filter(Q(account__isnull=True) | Q(account=account))
        .annotate(attachment_count=Count("attachments", filter=Q(attachments__account=account)))
        .order_by("policy_type", "name")
    )


def get_policy(account: Account, policy_type: str, name: str) -> Policy | None:
    """The policy of that type and name (any case), or None."""
    if len(name) > Policy._meta.get_field("name").max_length:  # type: ignore[operator]
        return None  # can't exist, and SQLite refuses a LIKE pattern over 50,000 bytes
    scope = Q(account__isnull=True) if policy_type == Policy.Type.SYSTEM else Q(account=account)
    return Policy.objects.filter(scope, policy_type=policy_type, name__iexact=name).first()


def default_version(policy: Policy) -> PolicyVersion | None:
    return policy.versions.filter(is_default=True).first()


def attachments_for_user(user_pk: int) -> QuerySet[PolicyAttachment]:
    return PolicyAttachment.objects.filter(user_id=user_pk).select_related("policy")


def attachments_for_group(group_pk: int) -> QuerySet[PolicyAttachment]:
    return PolicyAttachment.objects.filter(group_id=group_pk).select_related("policy")


def policy_document_limit() -> int:
    return int(settings.IAM_LIMITS["policy_document_chars"])


def attached_to(attachment: PolicyAttachment) -> tuple[str, User | Group | Role]:
    """("user" | "group" | "role", the entity) of one attachment."""
    if attachment.user is not None:
        return "user", attachment.user
    if attachment.group is not None:
        return "group", attachment.group
    if attachment.role is None:  # a check constraint makes exactly one of the three set
        raise ValueError(f"attachment {attachment.pk} has no target")
    return "role", attachment.role


def policy_uses(policy: Policy) -> list[str]:
    """Lines naming what deleting a policy would also remove: its attachments and the
    versions other than the default."""
    attachments = policy.attachments.select_related("user", "group", "role").order_by("id")
    lines = []
    for attachment in attachments:
        kind, target = attached_to(attachment)
        lines.append(f"attached to {kind} {target.name}")
    others = policy.versions.filter(is_default=False).order_by("id")
    lines += [f"version {v}" for v in others.values_list("version_id", flat=True)]
    return lines
