"""RAM API actions for roles and their policies."""

from __future__ import annotations

from typing import Any

from openapi.params import iso, page
from openapi.registry import RAM, ApiCall, action
from policies.api import _attached, _policy
from policies.models import PolicyAttachment
from policies.services import policy_attach, policy_detach
from roles import selectors, services
from roles.models import Role


def role_json(role: Role, *, document: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "RoleId": role.role_id,
        "RoleName": role.name,
        "Arn": role.arn,
        "Description": role.description,
        "MaxSessionDuration": role.max_session_duration,
        "AllowConsoleLogin": False,
        "CreateDate": iso(role.created_at),
        "UpdateDate": iso(role.updated_at),
    }
    if document:
        body.update(
            {
                "AssumeRolePolicyDocument": role.trust_policy,
                "IsServiceLinkedRole": False,
                "RolePrincipalName": role.principal_name,
            }
        )
    return body


def _role(call: ApiCall, action_name: str = "ram:GetRole") -> Role:
    return selectors.get_role_for_actor(
        call.principal, call.params.text("RoleName", required=True), action=action_name
    )


@action(RAM, "CreateRole")
def create_role(call: ApiCall) -> dict[str, Any]:
    role = services.role_create(
        actor=call.principal,
        name=call.params.text("RoleName", required=True),
        trust_policy=call.params.text("AssumeRolePolicyDocument", required=True),
        description=call.params.text("Description"),
        max_session_duration=call.params.number(
            "MaxSessionDuration", default=3600, low=3600, high=43200
        )
        or 3600,
    )
    return {"Role": role_json(role)}


@action(RAM, "GetRole")
def get_role(call: ApiCall) -> dict[str, Any]:
    return {"Role": role_json(_role(call))}


@action(RAM, "UpdateRole")
def update_role(call: ApiCall) -> dict[str, Any]:
    role = services.role_update(
        actor=call.principal,
        role=_role(call, "ram:UpdateRole"),
        trust_policy=call.params.optional("NewAssumeRolePolicyDocument"),
        description=call.params.optional("NewDescription"),
        max_session_duration=call.params.number("NewMaxSessionDuration", low=3600, high=43200),
    )
    return {"Role": role_json(role)}


@action(RAM, "DeleteRole")
def delete_role(call: ApiCall) -> dict[str, Any]:
    services.role_delete(actor=call.principal, role=_role(call, "ram:DeleteRole"))
    return {}


@action(RAM, "ListRoles")
def list_roles(call: ApiCall) -> dict[str, Any]:
    items, info = page(call.params, selectors.roles_for(call.principal), "name")
    return {**info, "Roles": {"Role": [role_json(r, document=False) for r in items]}}


@action(RAM, "AttachPolicyToRole")
def attach_policy_to_role(call: ApiCall) -> dict[str, Any]:
    role = _role(call, "ram:AttachPolicyToRole")
    policy_attach(actor=call.principal, policy=_policy(call, "ram:GetPolicy"), role=role)
    return {}


@action(RAM, "DetachPolicyFromRole")
def detach_policy_from_role(call: ApiCall) -> dict[str, Any]:
    role = _role(call, "ram:DetachPolicyFromRole")
    policy_detach(actor=call.principal, policy=_policy(call, "ram:GetPolicy"), role=role)
    return {}


@action(RAM, "ListPoliciesForRole")
def list_policies_for_role(call: ApiCall) -> dict[str, Any]:
    role = _role(call, "ram:ListPoliciesForRole")
    return _attached(
        PolicyAttachment.objects.filter(role=role).select_related("policy").order_by("id")
    )
