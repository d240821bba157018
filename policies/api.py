"""RAM API actions for policies, versions and attachments to users and groups."""

from __future__ import annotations

from typing import Any

from accounts.arns import ram_resource
from accounts.errors import InvalidParameter, NotFound
from accounts.selectors import find_user
from groups.selectors import get_group_for_actor
from openapi.params import iso, page
from openapi.registry import RAM, ApiCall, action
from policies import services
from policies.guards import require
from policies.models import Policy, PolicyAttachment, PolicyVersion
from policies.selectors import get_policy, policies_visible_to


def _policy_type(call: ApiCall, required: bool = True) -> str:
    value = call.params.text("PolicyType", required=required)
    if value and value not in Policy.Type.values:
        raise InvalidParameter(
            "InvalidParameter.PolicyType",
            'The parameter - "PolicyType" is incorrect: System or Custom.',
        )
    return value


def _policy(call: ApiCall, action_name: str, policy_type: str | None = None) -> Policy:
    kind = policy_type or _policy_type(call)
    name = call.params.text("PolicyName", required=True)
    policy = get_policy(call.principal.account_id, kind, name)  # type: ignore[arg-type]
    # Permission first (403 whether or not it exists), then 404.
    owner = "system" if kind == Policy.Type.SYSTEM else call.principal.account_uid
    resource = (
        policy.resource_arn(call.principal.account_uid)
        if policy
        else f"acs:ram:*:{owner}:policy/{name}"
    )
    require(call.principal, action_name, resource)
    if policy is None:
        raise NotFound("EntityNotExist.Policy", f"The policy does not exist: {name}.")
    return policy


def policy_json(policy: Policy, *, count: int | None = None) -> dict[str, Any]:
    default = policy.versions.filter(is_default=True).values_list("version_id", flat=True)
    body: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyType": policy.policy_type,
        "Description": policy.description,
        "DefaultVersion": next(iter(default), ""),
        "CreateDate": iso(policy.created_at),
        "UpdateDate": iso(policy.updated_at),
    }
    if count is not None:
        body["AttachmentCount"] = count
    return body


def version_json(version: PolicyVersion) -> dict[str, Any]:
    return {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.is_default,
        "PolicyDocument": version.document,
        "CreateDate": iso(version.created_at),
    }


@action(RAM, "CreatePolicy")
def create_policy(call: ApiCall) -> dict[str, Any]:
    policy = services.policy_create(
        actor=call.principal,
        name=call.params.text("PolicyName", required=True),
        document=call.params.text("PolicyDocument", required=True),
        description=call.params.text("Description"),
    )
    body = policy_json(policy)
    body.pop("UpdateDate")
    return {"Policy": body}


@action(RAM, "GetPolicy")
def get_policy_action(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:GetPolicy")
    count = policy.attachments.filter(account_id=call.principal.account_id).count()
    default = policy.versions.filter(is_default=True).first()
    body = policy_json(policy, count=count)
    body["PolicyDocument"] = default.document if default else ""
    result: dict[str, Any] = {"Policy": body}
    if default:
        result["DefaultPolicyVersion"] = version_json(default)
    return result


@action(RAM, "UpdatePolicyDescription")
def update_policy_description(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:UpdatePolicyDescription", "Custom")
    policy = services.policy_update_description(
        actor=call.principal, policy=policy, description=call.params.text("NewDescription")
    )
    return {"Policy": policy_json(policy)}


@action(RAM, "DeletePolicy")
def delete_policy(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:DeletePolicy", "Custom")
    cascade = bool(call.params.flag("CascadingDelete", False))
    services.policy_delete(actor=call.principal, policy=policy, cascade=cascade)
    return {}


@action(RAM, "ListPolicies")
def list_policies(call: ApiCall) -> dict[str, Any]:
    require(call.principal, "ram:ListPolicies", ram_resource(call.principal.account_uid, "policy"))
    policies = policies_visible_to(call.principal.account_id)  # type: ignore[arg-type]
    kind = _policy_type(call, required=False)
    if kind:
        policies = policies.filter(policy_type=kind)
    # One ordering for both types: "<type>/<name>" keeps the marker unambiguous.
    items, info = page(call.params, policies.order_by(), "name", key=lambda p: p.name)
    return {
        **info,
        "Policies": {"Policy": [policy_json(p, count=p.attachment_count) for p in items]},
    }


@action(RAM, "CreatePolicyVersion")
def create_policy_version(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:CreatePolicyVersion", "Custom")
    strategy = call.params.text("RotateStrategy", default="None")
    if strategy not in ("None", "DeleteOldestNonDefaultVersionWhenLimitExceeded"):
        raise InvalidParameter(
            "InvalidParameter.RotateStrategy",
            "RotateStrategy is None or DeleteOldestNonDefaultVersionWhenLimitExceeded.",
        )
    version = services.policy_version_create(
        actor=call.principal,
        policy=policy,
        document=call.params.text("PolicyDocument", required=True),
        set_as_default=bool(call.params.flag("SetAsDefault", False)),
        rotate=strategy != "None",
    )
    return {"PolicyVersion": version_json(version)}


def _version(call: ApiCall, policy: Policy) -> PolicyVersion:
    version_id = call.params.text("VersionId", required=True)
    version = policy.versions.filter(version_id=version_id).first()
    if version is None:
        raise NotFound(
            "EntityNotExist.Policy.Version", f"The policy version does not exist: {version_id}."
        )
    return version


@action(RAM, "GetPolicyVersion")
def get_policy_version(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:GetPolicyVersion")
    return {"PolicyVersion": version_json(_version(call, policy))}


@action(RAM, "DeletePolicyVersion")
def delete_policy_version(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:DeletePolicyVersion", "Custom")
    services.policy_version_delete(
        actor=call.principal, policy=policy, version_id=call.params.text("VersionId", required=True)
    )
    return {}


@action(RAM, "ListPolicyVersions")
def list_policy_versions(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:ListPolicyVersions")
    versions = policy.versions.order_by("id")
    return {"PolicyVersions": {"PolicyVersion": [version_json(v) for v in versions]}}


@action(RAM, "SetDefaultPolicyVersion")
def set_default_policy_version(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:SetDefaultPolicyVersion", "Custom")
    services.policy_version_set_default(
        actor=call.principal, policy=policy, version_id=call.params.text("VersionId", required=True)
    )
    return {}


def _target(call: ApiCall, kind: str, verb: str) -> dict[str, Any]:
    if kind == "User":
        return {
            "user": find_user(
                call.principal.account_id, call.params.text("UserName", required=True)
            )
        }
    return {
        "group": get_group_for_actor(
            call.principal, call.params.text("GroupName", required=True), action=f"ram:{verb}"
        )
    }


def _attach(call: ApiCall, kind: str) -> dict[str, Any]:
    target = _target(call, kind, f"AttachPolicyTo{kind}")
    policy = _policy(call, "ram:GetPolicy")
    services.policy_attach(actor=call.principal, policy=policy, **target)
    return {}


def _detach(call: ApiCall, kind: str) -> dict[str, Any]:
    target = _target(call, kind, f"DetachPolicyFrom{kind}")
    policy = _policy(call, "ram:GetPolicy")
    services.policy_detach(actor=call.principal, policy=policy, **target)
    return {}


@action(RAM, "AttachPolicyToUser")
def attach_policy_to_user(call: ApiCall) -> dict[str, Any]:
    return _attach(call, "User")


@action(RAM, "AttachPolicyToGroup")
def attach_policy_to_group(call: ApiCall) -> dict[str, Any]:
    return _attach(call, "Group")


@action(RAM, "DetachPolicyFromUser")
def detach_policy_from_user(call: ApiCall) -> dict[str, Any]:
    return _detach(call, "User")


@action(RAM, "DetachPolicyFromGroup")
def detach_policy_from_group(call: ApiCall) -> dict[str, Any]:
    return _detach(call, "Group")


def _attached(attachments: Any) -> dict[str, Any]:
    return {
        "Policies": {
            "Policy": [
                {
                    "PolicyName": a.policy.name,
                    "PolicyType": a.policy.policy_type,
                    "Description": a.policy.description,
                    "DefaultVersion": next(
                        iter(
                            a.policy.versions.filter(is_default=True).values_list(
                                "version_id", flat=True
                            )
                        ),
                        "",
                    ),
                    "AttachDate": iso(a.attached_at),
                }
                for a in attachments
            ]
        }
    }


@action(RAM, "ListPoliciesForUser")
def list_policies_for_user(call: ApiCall) -> dict[str, Any]:
    user = find_user(call.principal.account_id, call.params.text("UserName", required=True))
    require(call.principal, "ram:ListPoliciesForUser", user.resource_arn)
    return _attached(
        PolicyAttachment.objects.filter(user=user).select_related("policy").order_by("id")
    )


@action(RAM, "ListPoliciesForGroup")
def list_policies_for_group(call: ApiCall) -> dict[str, Any]:
    group = get_group_for_actor(
        call.principal,
        call.params.text("GroupName", required=True),
        action="ram:ListPoliciesForGroup",
    )
    return _attached(
        PolicyAttachment.objects.filter(group=group).select_related("policy").order_by("id")
    )


@action(RAM, "ListEntitiesForPolicy")
def list_entities_for_policy(call: ApiCall) -> dict[str, Any]:
    policy = _policy(call, "ram:ListEntitiesForPolicy")
    attachments = (
        policy.attachments.filter(account_id=call.principal.account_id)
        .select_related("user", "group", "role__account")
        .order_by("id")
    )
    users = [(a, a.user) for a in attachments if a.user]
    groups = [(a, a.group) for a in attachments if a.group]
    user_rows = [
        {
            "UserId": u.user_id,
            "UserName": u.name,
            "DisplayName": u.display_name,
            "AttachDate": iso(a.attached_at),
        }
        for a, u in users
    ]
    group_rows = [
        {"GroupName": g.name, "Comments": g.comments, "AttachDate": iso(a.attached_at)}
        for a, g in groups
    ]
    return {
        "Users": {"User": user_rows},
        "Groups": {"Group": group_rows},
        "Roles": {
            "Role": [
                {
                    "RoleId": a.role.role_id,
                    "RoleName": a.role.name,
                    "Arn": a.role.arn,
                    "Description": a.role.description,
                    "AttachDate": iso(a.attached_at),
                }
                for a in attachments
                if a.role
            ]
        },
    }
