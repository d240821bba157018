"""Console pages for policies, versions, attachments, effective permissions and the simulator."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.arns import ram_resource
from accounts.console import confirm, handle_iam_errors, paginate, render_error
from accounts.errors import IamError, NoPermission, NotFound
from accounts.models import User
from accounts.selectors import get_user_for_actor, principal_for_user
from accounts.stepup import step_up_redirect
from groups.models import Group
from groups.selectors import get_group_for_actor
from policies import services
from policies.authorization import authorize
from policies.engine import Effect
from policies.forms import (
    AttachForm,
    PolicyCreateForm,
    PolicyDescriptionForm,
    PolicyVersionForm,
    SimulatorForm,
)
from policies.guards import allowed, require
from policies.models import Policy
from policies.principal import Principal
from policies.selectors import (
    get_policy,
    is_privileged,
    policies_visible_to,
    policy_uses,
    statements_for_role,
    statements_for_user,
)
from roles.models import Role
from roles.selectors import get_role_for_actor
from sts.models import TrustedService
from sts.service_principals import RESERVED_PREFIXES
from sts.service_principals import action_prefix as service_prefix


def _policy_for_actor(
    principal: Principal, policy_type: str, name: str, action: str = "ram:GetPolicy"
) -> Policy:
    if policy_type not in Policy.Type.values:
        raise Http404
    policy = get_policy(principal.account_id, policy_type, name)  # type: ignore[arg-type]
    if policy is None:
        raise NotFound("EntityNotExist.Policy", f"The policy does not exist: {name}.")
    require(principal, action, policy.resource_arn(principal.account_uid))
    return policy


@handle_iam_errors
def policy_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:ListPolicies", ram_resource(principal.account_uid, "policy"))
    query = request.GET.get("q", "").strip()[:128]
    kind = request.GET.get("type", "")
    policies = policies_visible_to(principal.account_id)  # type: ignore[arg-type]
    if query:
        policies = policies.filter(name__icontains=query)
    if kind in Policy.Type.values:
        policies = policies.filter(policy_type=kind)
    return render(
        request,
        "policies/policy_list.html",
        {
            "page": paginate(request, policies),
            "q": query,
            "type": kind,
            "can_create": allowed(
                principal, "ram:CreatePolicy", ram_resource(principal.account_uid, "policy")
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def policy_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:CreatePolicy", ram_resource(principal.account_uid, "policy"))
    form = PolicyCreateForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.policy_create(actor=principal, **form.cleaned_data)
        except IamError as exc:
            return render_error(request, "policies/policy_create.html", context, exc)
        messages.success(request, f"Policy {policy.name} created.")
        return redirect("policies:policy_detail", policy_type="Custom", name=policy.name)
    return render(request, "policies/policy_create.html", context)


@handle_iam_errors
def policy_detail(request: HttpRequest, policy_type: str, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    policy = _policy_for_actor(principal, policy_type, name)
    arn = policy.resource_arn(principal.account_uid)
    versions = list(policy.versions.order_by("-id"))
    shown = request.GET.get("version")
    current = next((v for v in versions if v.version_id == shown), None) or next(
        (v for v in versions if v.is_default), None
    )
    pretty = (
        json.dumps(json.loads(current.document), indent=2, ensure_ascii=False) if current else ""
    )
    flags = {
        a: allowed(principal, f"ram:{a}", arn) and not policy.is_system
        for a in (
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "DeletePolicyVersion",
            "DeletePolicy",
            "UpdatePolicyDescription",
        )
    }
    attachments = policy.attachments.filter(account_id=principal.account_id).select_related(
        "user", "group", "role"
    )
    return render(
        request,
        "policies/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "current": current,
            "pretty": pretty,
            "flags": flags,
            "attachments": attachments,
            "description_form": PolicyDescriptionForm(initial={"description": policy.description}),
        },
    )


@require_POST
@handle_iam_errors
def policy_description(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    policy = _policy_for_actor(principal, "Custom", name, "ram:UpdatePolicyDescription")
    form = PolicyDescriptionForm(request.POST)
    if form.is_valid():
        try:
            services.policy_update_description(
                actor=principal, policy=policy, description=form.cleaned_data["description"]
            )
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Description saved.")
    return redirect("policies:policy_detail", policy_type="Custom", name=policy.name)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def version_create(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    policy = _policy_for_actor(principal, "Custom", name, "ram:CreatePolicyVersion")
    default = policy.versions.filter(is_default=True).first()
    initial = {"document": json.dumps(json.loads(default.document), indent=2) if default else ""}
    form = PolicyVersionForm(request.POST or None, initial=initial)
    context = {"form": form, "policy": policy}
    if request.method == "POST" and form.is_valid():
        try:
            version = services.policy_version_create(
                actor=principal, policy=policy, **form.cleaned_data
            )
        except IamError as exc:
            return render_error(request, "policies/version_create.html", context, exc)
        messages.success(request, f"Version {version.version_id} created.")
        return redirect("policies:policy_detail", policy_type="Custom", name=policy.name)
    return render(request, "policies/version_create.html", context)


@require_POST
@handle_iam_errors
def version_set_default(request: HttpRequest, name: str, version_id: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    policy = _policy_for_actor(principal, "Custom", name, "ram:SetDefaultPolicyVersion")
    try:
        services.policy_version_set_default(actor=principal, policy=policy, version_id=version_id)
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version_id} is now the default version.")
    return redirect("policies:policy_detail", policy_type="Custom", name=policy.name)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def version_delete(request: HttpRequest, name: str, version_id: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    policy = _policy_for_actor(principal, "Custom", name, "ram:DeletePolicyVersion")
    back = reverse("policies:policy_detail", args=["Custom", policy.name])
    if request.method == "POST":
        try:
            services.policy_version_delete(actor=principal, policy=policy, version_id=version_id)
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Version {version_id} deleted.")
        return redirect(back)
    return confirm(
        request,
        title=f"Delete version {version_id} of {policy.name}?",
        message="The version's document is removed. This can't be undone.",
        action_url=reverse("policies:version_delete", args=[policy.name, version_id]),
        cancel_url=back,
        button="Delete version",
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def policy_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Delete a custom policy; one still in use is detached everywhere only when the
    confirmation that lists where it is attached was the one submitted (cascade)."""
    principal = request.principal  # type: ignore[attr-defined]
    policy = _policy_for_actor(principal, "Custom", name, "ram:DeletePolicy")
    back = reverse("policies:policy_detail", args=["Custom", policy.name])
    if request.method == "POST":
        cascade = request.POST.get("cascade") == "on"
        try:
            services.policy_delete(actor=principal, policy=policy, cascade=cascade)
        except IamError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, f"Policy {name} deleted.")
        return redirect("policies:policy_list")
    uses = policy_uses(policy)
    return confirm(
        request,
        title=f"Delete policy {policy.name}?",
        message=(
            "The policy is in use. Deleting it detaches it from all of these, which takes their "
            "permissions away, and removes all its versions. This can't be undone."
            if uses
            else "The policy and its version are removed. This can't be undone."
        ),
        details=uses,
        fields={"cascade": "on"} if uses else {},
        action_url=reverse("policies:policy_delete", args=[policy.name]),
        cancel_url=back,
        button="Detach everywhere and delete" if uses else "Delete policy",
    )


NOUNS = {"users": "User", "groups": "Group", "roles": "Role"}


def _target(principal: Principal, kind: str, name: str, action: str) -> User | Group | Role:
    if kind == "users":
        return get_user_for_actor(principal, name, action=action)
    if kind == "groups":
        return get_group_for_actor(principal, name, action=action)
    if kind == "roles":
        return get_role_for_actor(principal, name, action=action)
    raise Http404


def _target_url(kind: str, name: str) -> str:
    if kind == "users":
        return reverse("accounts:user_detail", args=[name])
    if kind == "roles":
        return reverse("roles:role_detail", args=[name])
    return reverse("groups:group_detail", args=[name])


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def attach(request: HttpRequest, kind: str, name: str) -> HttpResponse:
    """Attach a policy to a user or group (AttachPolicyToUser / AttachPolicyToGroup)."""
    principal = request.principal  # type: ignore[attr-defined]
    noun = NOUNS.get(kind, "Group")
    target = _target(principal, kind, name, f"ram:AttachPolicyTo{noun}")
    back = _target_url(kind, target.name)
    if request.method == "POST":
        form = AttachForm(request.POST)
        if form.is_valid():
            policy_type, _, policy_name = form.cleaned_data["policy"].partition("/")
            try:
                policy = _policy_for_actor(principal, policy_type, policy_name)
                if is_privileged(policy):  # granting RAM administration needs a fresh password
                    step_up = step_up_redirect(request, next_url=request.path)
                    if step_up is not None:
                        return step_up
                target_kw: dict[str, Any] = {noun.lower(): target}
                services.policy_attach(actor=principal, policy=policy, **target_kw)
            except IamError as exc:
                messages.error(request, exc.message)
                return redirect(request.path)
            messages.success(request, f"{policy.name} attached to {target.name}.")
        return redirect(back)
    query = request.GET.get("q", "").strip()[:128]
    attached = set(target.policy_attachments.values_list("policy_id", flat=True))
    policies = policies_visible_to(principal.account_id).exclude(pk__in=attached)  # type: ignore[arg-type]
    if query:
        policies = policies.filter(name__icontains=query)
    return render(
        request,
        "policies/attach.html",
        {
            "target": target,
            "kind": kind,
            "noun": noun,
            "page": paginate(request, policies),
            "q": query,
            "back": back,
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def detach(
    request: HttpRequest, kind: str, name: str, policy_type: str, policy_name: str
) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    noun = NOUNS.get(kind, "Group")
    target = _target(principal, kind, name, f"ram:DetachPolicyFrom{noun}")
    policy = _policy_for_actor(principal, policy_type, policy_name)
    back = _target_url(kind, target.name)
    if request.method == "POST":
        try:
            target_kw: dict[str, Any] = {noun.lower(): target}
            services.policy_detach(actor=principal, policy=policy, **target_kw)
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{policy.name} detached from {target.name}.")
        return redirect(back)
    return confirm(
        request,
        title=f"Detach {policy.name} from {target.name}?",
        message="The permissions it grants end with the next request.",
        action_url=request.path,
        cancel_url=back,
        button="Detach",
    )


@handle_iam_errors
def effective_permissions(request: HttpRequest, name: str) -> HttpResponse:
    """Every statement that applies to a user, with where it comes from."""
    principal = request.principal  # type: ignore[attr-defined]
    user = get_user_for_actor(principal, name, action="ram:ListPoliciesForUser")
    rows = _effective_rows(statements_for_user(user.pk))
    return render(
        request,
        "policies/effective.html",
        {"subject": user, "rows": rows, "back": reverse("accounts:user_detail", args=[user.name])},
    )


@handle_iam_errors
def role_effective_permissions(request: HttpRequest, name: str) -> HttpResponse:
    """Every statement a session of the role gets (before any session policy narrows it)."""
    principal = request.principal  # type: ignore[attr-defined]
    role = get_role_for_actor(principal, name, action="ram:ListPoliciesForRole")
    rows = _effective_rows(statements_for_role(role.pk))
    return render(
        request,
        "policies/effective.html",
        {"subject": role, "rows": rows, "back": reverse("roles:role_detail", args=[role.name])},
    )


def _effective_rows(statements: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "statement": statement,
            "source": source,
            "document": json.dumps(_statement_json(statement), indent=2, ensure_ascii=False),
        }
        for statement, source in statements
    ]


def _simulated(principal: Principal, name: str, mfa_present: bool) -> Principal:
    """A user by name, or a role as "role/<name>" (a session of it without session policy)."""
    if name.startswith("role/"):
        role = get_role_for_actor(principal, name[5:], action="ram:ListPoliciesForRole")
        return Principal(
            account_id=role.account_id,
            account_uid=role.account.uid,
            kind="role-session",
            arn=f"{role.arn}/simulation",
            name="simulation",
            user_pk=None,
            authz_version=role.account.authz_version,
            mfa_present=mfa_present,
            role_pk=role.pk,
        )
    user = get_user_for_actor(principal, name, action="ram:ListPoliciesForUser")
    return principal_for_user(user, mfa_present=mfa_present)


def _principal_error(name: str, error: IamError) -> str:
    """What to fix in the principal field: the name that isn't there (and how a role is
    named), or the permission the caller lacks."""
    if isinstance(error, NoPermission):
        return error.message
    if name.startswith("role/"):
        return f"There is no role {name[5:]} in this account."
    return f"There is no user {name} in this account. For a role's session, enter role/<role name>."


def _statement_json(statement: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": statement.effect}
    body["NotAction" if statement.not_action else "Action"] = list(statement.actions)
    body["NotResource" if statement.not_resource else "Resource"] = list(statement.resources)
    if statement.conditions:
        block: dict[str, dict[str, list[str]]] = {}
        for c in statement.conditions:
            op = c.operator + ("IfExists" if c.if_exists else "")
            block.setdefault(op, {})[c.key] = [str(v) for v in c.values]
        body["Condition"] = block
    return body


def _deciders(actions: list[str]) -> dict[str, str]:
    """Who asks for a decision on each action's prefix: this server for its own (ram:, sts:,
    audit:, …), else the registered resource service(s) of that prefix (see
    sts.service_principals.action_prefix), else nobody yet."""
    prefixes = {action_prefix(a) for a in actions}
    services: dict[str, list[str]] = {}
    for name in TrustedService.objects.filter(active=True).values_list("name", flat=True):
        services.setdefault(service_prefix(name), []).append(name)
    return {
        prefix: "iamconsole"
        if prefix in RESERVED_PREFIXES
        else ", ".join(sorted(services.get(prefix, [])))
        for prefix in prefixes
    }


def action_prefix(action: str) -> str:
    return action.split(":", 1)[0].lower()


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def simulator(request: HttpRequest) -> HttpResponse:
    """Pick a user, actions, a resource and context values; see each decision and why."""
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:ListPolicies", ram_resource(principal.account_uid, "policy"))
    form = SimulatorForm(request.POST or None)
    results = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subject = _simulated(principal, data["principal"].strip(), data["mfa_present"])
        except (NotFound, NoPermission) as exc:
            form.add_error("principal", _principal_error(data["principal"].strip(), exc))
            return render(request, "policies/simulator.html", {"form": form}, status=400)
        context = {
            "acs:SecureTransport": data["secure_transport"],
            "acs:MFAPresent": data["mfa_present"],
        }
        if data["source_ip"]:
            context["acs:SourceIp"] = data["source_ip"]
        if data["current_time"]:
            context["acs:CurrentTime"] = data["current_time"]
        resource = data["resource"].strip() or "*"
        deciders = _deciders(data["actions"])
        for action in data["actions"]:
            decision = authorize(subject, action, resource, context)
            results.append(
                {
                    "action": action,
                    "decided_by": deciders[action_prefix(action)],
                    "decision": decision,
                    "label": {
                        Effect.ALLOW: "Allow",
                        Effect.EXPLICIT_DENY: "Explicit deny",
                        Effect.IMPLICIT_DENY: "Implicit deny",
                    }[decision.effect],
                }
            )
    return render(request, "policies/simulator.html", {"form": form, "results": results})
