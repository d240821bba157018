"""Writes for custom policies, their versions and attachments to users, groups and roles."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.arns import ram_resource
from accounts.errors import Conflict, InvalidParameter, NotFound
from accounts.models import User
from accounts.services import authz_version_bump
from accounts.validation import check_text
from audit.services import event_record
from groups.models import Group
from policies.engine import PolicyError, parse_policy
from policies.guards import require
from policies.models import Policy, PolicyAttachment, PolicyVersion
from policies.principal import Principal
from policies.selectors import attached_to
from roles.models import Role

POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9-]{1,128}$")
Target = User | Group | Role


def validate_document(document: str) -> str:
    """Return the document if valid, else raise MalformedPolicyDocument naming the problem."""
    limit = settings.IAM_LIMITS["policy_document_chars"]
    try:
        parse_policy(document, max_chars=limit)
    except PolicyError as exc:
        code = (
            "InvalidParameter.PolicyDocument.Length"
            if "limit is" in str(exc)
            else ("MalformedPolicyDocument")
        )
        raise InvalidParameter(code, str(exc)) from exc
    return document


def _check_policy_name(name: str) -> None:
    if not POLICY_NAME_RE.match(name or ""):
        raise InvalidParameter(
            "InvalidParameter.PolicyName.InvalidChars",
            'The parameter - "PolicyName" must be 1 to 128 letters, digits or hyphens.',
        )


def policy_create(*, actor: Principal, name: str, document: str, description: str = "") -> Policy:
    _check_policy_name(name)
    require(actor, "ram:CreatePolicy", ram_resource(actor.account_uid, "policy", name))
    check_text(description, "Description", limit=1024)
    validate_document(document)
    taken = Policy.objects.filter(account_id=actor.account_id, name__iexact=name).exists()
    if taken or Policy.objects.filter(account__isnull=True, name__iexact=name).exists():
        raise Conflict("EntityAlreadyExists.Policy", f"The policy {name} does already exist.")
    limit = settings.IAM_LIMITS["custom_policies_per_account"]
    if Policy.objects.filter(account_id=actor.account_id).count() >= limit:
        raise Conflict("LimitExceeded.Policy", f"An account can have at most {limit} policies.")
    try:
        with transaction.atomic():
            policy = Policy.objects.create(
                account_id=actor.account_id,
                name=name,
                policy_type=Policy.Type.CUSTOM,
                description=description,
                next_version_number=2,
            )
            PolicyVersion.objects.create(
                policy=policy, version_id="v1", document=document, is_default=True
            )
            event_record(
                actor=actor,
                action="ram:CreatePolicy",
                target_arn=policy.resource_arn(actor.account_uid),
                details={"description": description, "document": document},
            )
    except IntegrityError as exc:
        raise Conflict("EntityAlreadyExists.Policy", f"The policy {name} does exist.") from exc
    return policy


def _custom(policy: Policy) -> None:
    if policy.is_system:
        raise InvalidParameter("InvalidParameter.PolicyType", "System policies can't be changed.")


def policy_update_description(*, actor: Principal, policy: Policy, description: str) -> Policy:
    require(actor, "ram:UpdatePolicyDescription", policy.resource_arn(actor.account_uid))
    _custom(policy)
    before = policy.description
    policy.description = check_text(description, "NewDescription", limit=1024)
    with transaction.atomic():
        policy.save(update_fields=["description", "updated_at"])
        event_record(
            actor=actor,
            action="ram:UpdatePolicyDescription",
            target_arn=policy.resource_arn(actor.account_uid),
            details={"before": before, "after": description},
        )
    return policy


def policy_delete(*, actor: Principal, policy: Policy, cascade: bool = False) -> None:
    """Delete a custom policy and its versions.

    Refused while it is attached to a user, group or role, or has non-default versions
    (DeleteConflict.Policy.*), unless `cascade`: then it is detached everywhere — each detachment
    authorized and audited like DetachPolicyFrom* — in the same transaction as the delete.
    """
    arn = policy.resource_arn(actor.account_uid)
    require(actor, "ram:DeletePolicy", arn)
    _custom(policy)
    attachments = list(policy.attachments.select_related("user", "group", "role").order_by("id"))
    versions = list(policy.versions.order_by("id").values_list("version_id", flat=True))
    if not cascade:
        _refuse_while_in_use(attachments, has_other_versions=len(versions) > 1)
    targets = [attached_to(a) for a in attachments]
    for kind, target in targets:  # before the transaction, so a denial stays recorded
        require(actor, f"ram:DetachPolicyFrom{kind.title()}", target.resource_arn)
    with transaction.atomic():
        # The policy row's lock orders this delete with every attach (which takes it too): the
        # attachments authorized above are exactly the ones removed, or nothing is.
        _locked(policy)
        current = list(policy.attachments.order_by("id").values_list("id", flat=True))
        if current != [a.pk for a in attachments]:
            raise Conflict(
                "DeleteConflict.Policy", "The policy's attachments just changed; try again."
            )
        for attachment, (kind, target) in zip(attachments, targets, strict=True):
            attachment.delete()
            event_record(
                actor=actor,
                action=f"ram:DetachPolicyFrom{kind.title()}",
                target_arn=target.arn,
                details={"policy": policy.name, "policy_type": policy.policy_type, "cascade": True},
            )
        if attachments:
            authz_version_bump(actor.account_id)
        policy.delete()
        event_record(
            actor=actor,
            action="ram:DeletePolicy",
            target_arn=arn,
            details={"cascade": cascade, "versions": versions},
        )


def _refuse_while_in_use(attachments: list[PolicyAttachment], *, has_other_versions: bool) -> None:
    names: dict[str, list[str]] = {"user": [], "group": [], "role": []}
    for attachment in attachments:
        kind, target = attached_to(attachment)
        names[kind].append(target.name)
    for kind, attached in names.items():
        if attached:
            raise Conflict(
                f"DeleteConflict.Policy.{kind.title()}",
                f"The policy is attached to {kind}s ({', '.join(attached)}); detach it first, "
                "or delete it with CascadingDelete.",
            )
    if has_other_versions:
        raise Conflict(
            "DeleteConflict.Policy.Version",
            "The policy has non-default versions; delete them first, or delete it with "
            "CascadingDelete.",
        )


def policy_version_create(
    *,
    actor: Principal,
    policy: Policy,
    document: str,
    set_as_default: bool = False,
    rotate: bool = False,
) -> PolicyVersion:
    """Add a version (at most 5; with rotate, the oldest non-default one makes room)."""
    require(actor, "ram:CreatePolicyVersion", policy.resource_arn(actor.account_uid))
    _custom(policy)
    validate_document(document)
    limit = settings.IAM_LIMITS["versions_per_policy"]
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        versions = locked.versions.order_by("id")
        if versions.count() >= limit:
            oldest = versions.filter(is_default=False).first()
            if not rotate or oldest is None:
                raise Conflict(
                    "LimitExceeded.Policy.Version",
                    f"A policy can have at most {limit} versions; delete one first.",
                )
            oldest.delete()
        version_id = f"v{locked.next_version_number}"
        Policy.objects.filter(pk=policy.pk).update(next_version_number=F("next_version_number") + 1)
        if set_as_default:
            locked.versions.filter(is_default=True).update(is_default=False)
        version = PolicyVersion.objects.create(
            policy=locked, version_id=version_id, document=document, is_default=set_as_default
        )
        if set_as_default:
            authz_version_bump(actor.account_id)
        event_record(
            actor=actor,
            action="ram:CreatePolicyVersion",
            target_arn=policy.resource_arn(actor.account_uid),
            details={"version": version_id, "default": set_as_default, "document": document},
        )
    return version


def policy_version_set_default(*, actor: Principal, policy: Policy, version_id: str) -> None:
    require(actor, "ram:SetDefaultPolicyVersion", policy.resource_arn(actor.account_uid))
    _custom(policy)
    with transaction.atomic():
        version = policy.versions.select_for_update().filter(version_id=version_id).first()
        if version is None:
            raise NotFound("EntityNotExist.Policy.Version", f"No version {version_id}.")
        previous = policy.versions.filter(is_default=True).values_list("version_id", flat=True)
        before = next(iter(previous), "")
        policy.versions.filter(is_default=True).update(is_default=False)
        PolicyVersion.objects.filter(pk=version.pk).update(is_default=True)
        authz_version_bump(actor.account_id)
        event_record(
            actor=actor,
            action="ram:SetDefaultPolicyVersion",
            target_arn=policy.resource_arn(actor.account_uid),
            details={"before": before, "after": version_id},
        )


def policy_version_delete(*, actor: Principal, policy: Policy, version_id: str) -> None:
    require(actor, "ram:DeletePolicyVersion", policy.resource_arn(actor.account_uid))
    _custom(policy)
    version = policy.versions.filter(version_id=version_id).first()
    if version is None:
        raise NotFound("EntityNotExist.Policy.Version", f"No version {version_id}.")
    if version.is_default:
        raise Conflict(
            "DeleteConflict.Policy.Version.Default",
            "The default version can't be deleted; make another version default first.",
        )
    with transaction.atomic():
        version.delete()
        event_record(
            actor=actor,
            action="ram:DeletePolicyVersion",
            target_arn=policy.resource_arn(actor.account_uid),
            details={"version": version_id},
        )


def _attach_limits(policy: Policy, existing: list[PolicyAttachment], kind: str) -> None:
    limits = settings.IAM_LIMITS
    same_type = [a for a in existing if a.policy.policy_type == policy.policy_type]
    if policy.is_system:
        limit = limits["system_policies_per_target"]
    else:
        limit = limits[f"custom_policies_per_{kind}"]
    if len(same_type) >= limit:
        code = f"LimitExceeded.{kind.title()}.Policy"
        raise Conflict(code, f"A {kind} can have at most {limit} {policy.policy_type} policies.")


def _one_target(**targets: Target | None) -> tuple[str, Target]:
    """(kind, object) for exactly one of user=, group=, role=."""
    given = [(kind, obj) for kind, obj in targets.items() if obj is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of user, group or role")
    return given[0]


def _locked(policy: Policy) -> bool:
    """Lock a custom policy's row for this transaction (False: it was deleted meanwhile)."""
    return Policy.objects.select_for_update().filter(pk=policy.pk).exists()


def policy_attach(
    *,
    actor: Principal,
    policy: Policy,
    user: User | None = None,
    group: Group | None = None,
    role: Role | None = None,
) -> PolicyAttachment:
    """Attach a policy to a user, a group or a role (AttachPolicyTo{User,Group,Role})."""
    kind, target = _one_target(user=user, group=group, role=role)
    action = f"ram:AttachPolicyTo{kind.title()}"
    require(actor, action, target.resource_arn)
    if policy.account_id not in (None, actor.account_id) or target.account_id != actor.account_id:
        raise NotFound("EntityNotExist.Policy", "The policy does not exist.")
    existing = list(PolicyAttachment.objects.filter(**{kind: target}).select_related("policy"))
    if any(a.policy_id == policy.pk for a in existing):
        code = f"EntityAlreadyExists.{kind.title()}.Policy"
        raise Conflict(code, f"{policy.name} is already attached to {target.name}.")
    _attach_limits(policy, existing, kind)
    try:
        with transaction.atomic():
            if policy.account_id is not None and not _locked(policy):
                raise NotFound("EntityNotExist.Policy", "The policy does not exist.")
            attachment = PolicyAttachment.objects.create(
                account_id=actor.account_id, policy=policy, **{kind: target}
            )
            authz_version_bump(actor.account_id)
            event_record(
                actor=actor,
                action=action,
                target_arn=target.arn,
                details={"policy": policy.name, "policy_type": policy.policy_type},
            )
    except IntegrityError as exc:  # a concurrent request attached it first
        raise Conflict(
            f"EntityAlreadyExists.{kind.title()}.Policy",
            f"{policy.name} is already attached to {target.name}.",
        ) from exc
    return attachment


def policy_detach(
    *,
    actor: Principal,
    policy: Policy,
    user: User | None = None,
    group: Group | None = None,
    role: Role | None = None,
) -> None:
    kind, target = _one_target(user=user, group=group, role=role)
    action = f"ram:DetachPolicyFrom{kind.title()}"
    require(actor, action, target.resource_arn)
    with transaction.atomic():
        deleted, _ = PolicyAttachment.objects.filter(policy=policy, **{kind: target}).delete()
        if not deleted:
            raise NotFound(
                f"EntityNotExist.{kind.title()}.Policy",
                f"{policy.name} is not attached to {target.name}.",
            )
        authz_version_bump(actor.account_id)
        event_record(
            actor=actor,
            action=action,
            target_arn=target.arn,
            details={"policy": policy.name, "policy_type": policy.policy_type},
        )
