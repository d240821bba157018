"""Console pages for roles: list, create with trust templates, detail with sessions, edit
(trust changes need an explicit confirmation), delete, session revocation."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.console import confirm, handle_iam_errors, paginate, render_error
from accounts.errors import IamError, InvalidParameter
from policies.guards import allowed, require
from policies.principal import Principal
from roles import selectors, services
from roles.forms import RoleEditForm, RoleForm
from sts.models import StsSession
from sts.services import revoke_role_sessions
from sts.views import session_revoke_confirmed


def trust_document(principal: Principal, data: dict) -> str:
    """Build the trust policy of a template choice (or take the custom JSON)."""
    kind, value = data["trusted_kind"], (data.get("trusted_value") or "").strip()
    uid = principal.account_uid
    if kind == "custom":
        return data.get("document") or ""
    named = ("other_account", "user", "role", "service", "saml_provider", "oidc_provider")
    if kind in named and not value:
        raise InvalidParameter(
            "InvalidParameter.Trust",
            "Name the trusted account, user, role, service or identity provider.",
        )
    if kind in ("saml_provider", "oidc_provider"):
        return _federated_trust(principal, kind, value)
    entries = {
        "account": ("RAM", f"acs:ram::{uid}:root"),
        "other_account": ("RAM", f"acs:ram::{value}:root"),
        "user": ("RAM", f"acs:ram::{uid}:user/{value}"),
        "role": ("RAM", f"acs:ram::{uid}:role/{value}"),
        "service": ("Service", value),
    }
    principal_type, entry = entries[kind]
    statement: dict = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {principal_type: [entry]},
    }
    if data.get("external_id"):
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": data["external_id"]}}
    return json.dumps({"Version": "1", "Statement": [statement]}, indent=2)


def _federated_trust(principal: Principal, kind: str, name: str) -> str:
    """Trust an identity provider of this account, with the conditions that keep it narrow:
    the role-SSO recipient for SAML; the issuer and the provider's first client id for OIDC."""
    from federation.saml import role_sp
    from federation.services import oidc_provider_for_actor, saml_provider_for_actor

    condition: dict
    if kind == "saml_provider":
        saml = saml_provider_for_actor(principal, name)
        arn = saml.arn
        condition = {"StringEquals": {"saml:recipient": role_sp().acs_url}}
    else:
        oidc = oidc_provider_for_actor(principal, name)
        arn = oidc.arn
        equals = {"oidc:iss": oidc.issuer_url}
        if oidc.client_id_list:
            equals["oidc:aud"] = oidc.client_id_list[0]
        condition = {"StringEquals": equals}
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Federated": [arn]},
        "Condition": condition,
    }
    return json.dumps({"Version": "1", "Statement": [statement]}, indent=2)


@handle_iam_errors
def role_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    query = request.GET.get("q", "").strip()[:64]
    roles = selectors.roles_for(principal).order_by("name")
    if query:
        roles = roles.filter(name__icontains=query)
    return render(
        request,
        "roles/role_list.html",
        {
            "page": paginate(request, roles),
            "q": query,
            "can_create": allowed(
                principal, "ram:CreateRole", f"acs:ram:*:{principal.account_uid}:role/*"
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def role_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:CreateRole", f"acs:ram:*:{principal.account_uid}:role/*")
    form = RoleForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_create(
                actor=principal,
                name=data["name"],
                description=data["description"],
                max_session_duration=data["max_session_duration"],
                trust_policy=trust_document(principal, data),
            )
        except IamError as exc:
            return render_error(request, "roles/role_create.html", context, exc)
        messages.success(request, f"Role {role.name} created.")
        return redirect("roles:role_detail", name=role.name)
    return render(request, "roles/role_create.html", context)


@handle_iam_errors
def role_detail(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    role = selectors.get_role_for_actor(principal, name)
    arn = role.resource_arn
    flags = {
        a: allowed(principal, f"ram:{a}", arn)
        for a in ("UpdateRole", "DeleteRole", "AttachPolicyToRole", "DetachPolicyFromRole")
    }
    flags["RevokeSession"] = allowed(principal, "sts:RevokeSession", arn)
    flags["LookupEvents"] = allowed(
        principal, "audit:LookupEvents", f"acs:audit:*:{principal.account_uid}:event/*"
    )
    return render(
        request,
        "roles/role_detail.html",
        {
            "role": role,
            "flags": flags,
            "pretty": json.dumps(json.loads(role.trust_policy), indent=2),
            "attachments": role.policy_attachments.select_related("policy").order_by("id"),
            "sessions": selectors.live_sessions(role)[:100],
            "services": selectors.services_of_role(role),
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def role_edit(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    role = selectors.get_role_for_actor(principal, name, action="ram:UpdateRole")
    initial = {
        "description": role.description,
        "max_session_duration": role.max_session_duration,
        "document": json.dumps(json.loads(role.trust_policy), indent=2),
    }
    form = RoleEditForm(request.POST or None, initial=initial)
    context = {"form": form, "role": role, "trust_changed": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = _normalized(data["document"]) != _normalized(role.trust_policy)
        if changed and not data["confirm_trust_change"]:
            context["trust_changed"] = True  # show the warning; nothing is saved yet
            return render(request, "roles/role_edit.html", context, status=400)
        try:
            services.role_update(
                actor=principal,
                role=role,
                description=data["description"],
                max_session_duration=data["max_session_duration"],
                trust_policy=data["document"] if changed else None,
            )
        except IamError as exc:
            return render_error(request, "roles/role_edit.html", context, exc)
        messages.success(request, f"Role {role.name} saved.")
        return redirect("roles:role_detail", name=role.name)
    return render(request, "roles/role_edit.html", context)


def _normalized(document: str) -> object:
    try:
        return json.loads(document)
    except ValueError:
        return document


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def role_delete(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    role = selectors.get_role_for_actor(principal, name, action="ram:DeleteRole")
    back = reverse("roles:role_detail", args=[role.name])
    if request.method == "POST":
        try:
            services.role_delete(actor=principal, role=role)
        except IamError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(request, f"Role {name} deleted.")
        return redirect("roles:role_list")
    return confirm(
        request,
        title=f"Delete role {role.name}?",
        message="Sessions of the role stop working. A role with policies attached "
        "can't be deleted: detach them first.",
        action_url=request.path,
        cancel_url=back,
        button="Delete role",
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def session_revoke(request: HttpRequest, name: str, key_id: str) -> HttpResponse:
    """Confirm (GET), then revoke one session of the role (POST)."""
    principal = request.principal  # type: ignore[attr-defined]
    role = selectors.get_role_for_actor(principal, name)
    session = (
        StsSession.objects.select_related("role__account", "account")
        .filter(role=role, access_key_id=key_id)
        .first()
    )
    back = reverse("roles:role_detail", args=[role.name])
    if session is None:
        messages.error(request, "That session does not exist.")
        return redirect(back)
    return session_revoke_confirmed(
        request,
        session,
        back=back,
        title=f"Revoke session {session.session_name} of {role.name}?",
        done=f"Session {session.session_name} revoked.",
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def sessions_revoke_all(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    role = selectors.get_role_for_actor(principal, name)
    if request.method == "POST":
        count = revoke_role_sessions(actor=principal, role=role)
        messages.success(request, f"{count} session(s) revoked.")
        return redirect("roles:role_detail", name=role.name)
    return confirm(
        request,
        title=f"Revoke all sessions of {role.name}?",
        message="Every temporary credential issued for this role until now stops "
        "working at its next use. New sessions can be issued right away.",
        action_url=request.path,
        cancel_url=reverse("roles:role_detail", args=[role.name]),
        button="Revoke all sessions",
    )
