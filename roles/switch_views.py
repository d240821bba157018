"""Console switch-role: act as a role session (its permissions only), then switch back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import IamError
from audit.services import event_record
from roles.models import Role
from sts.services import ROLE_ARN_RE, assume_role

SESSION_KEY = "switched_role"


class SwitchRoleForm(forms.Form):
    role_arn = forms.CharField(
        max_length=200,
        label="Role ARN",
        help_text=escape("acs:ram::<account uid>:role/<role name>"),
    )
    duration = forms.IntegerField(
        min_value=900, max_value=43200, initial=3600, label="Session duration (seconds)"
    )
    external_id = forms.CharField(
        max_length=1224,
        required=False,
        label="ExternalId",
        help_text="Only if the role's trust requires one: the ExternalId its owner gave you.",
    )


def _switch_error(exc: IamError, role_arn: str, external_id: str) -> str:
    """The service's message, unless the trust refused a caller who could only be let in
    with an ExternalId: then say that, not that the trust policy doesn't trust them. (The
    trust is only consulted once the caller's own policies allow sts:AssumeRole on the role,
    so this tells nothing about roles the caller may not assume.)"""
    if "trust policy doesn't trust you" not in exc.message:
        return exc.message
    match = ROLE_ARN_RE.match(role_arn)
    role = (
        Role.objects.filter(account__uid=match.group(1), name__lower=match.group(2).lower())
        .only("trust_policy")
        .first()
        if match
        else None
    )
    if role is None or "sts:externalid" not in role.trust_policy.lower():
        return exc.message
    if not external_id:
        return "This role requires an ExternalId: enter the one the role's owner gave you."
    return (
        "This role requires an ExternalId, and the role does not accept the one you entered "
        "(or does not trust you)."
    )


@require_http_methods(["GET", "POST"])
def switch_role(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    form = SwitchRoleForm(request.POST or None, initial={"role_arn": request.GET.get("arn", "")})
    error = ""
    if request.method == "POST" and form.is_valid():
        if principal.kind != "user":
            error = "Only RAM users switch roles: sign in as a RAM user (root never assumes roles)."
        else:
            try:
                creds = assume_role(
                    actor=principal,
                    role_arn=form.cleaned_data["role_arn"],
                    session_name=principal.name
                    if len(principal.name) > 1
                    else f"{principal.name}-console",
                    duration=form.cleaned_data["duration"],
                    external_id=form.cleaned_data["external_id"].strip(),
                )
            except IamError as exc:
                error = _switch_error(
                    exc, form.cleaned_data["role_arn"], form.cleaned_data["external_id"].strip()
                )
            else:
                request.session[SESSION_KEY] = {
                    "key": creds.session.access_key_id,
                    "token": creds.token,
                }
                event_record(
                    actor=principal,
                    action="console:SwitchRole",
                    target_arn=creds.session.role.arn,
                    details={"session": creds.session.access_key_id},
                )
                messages.success(request, f"You are now acting as role {creds.session.role.name}.")
                return redirect("accounts:overview")
    return render(
        request,
        "roles/switch_role.html",
        {"form": form, "error": error},
        status=400 if error else 200,
    )


@require_POST
def switch_back(request: HttpRequest) -> HttpResponse:
    switched = request.session.pop(SESSION_KEY, None)
    if switched:
        event_record(
            actor=request.principal,  # type: ignore[attr-defined]
            action="console:SwitchBack",
            details={"session": switched.get("key")},
        )
        messages.info(request, "You are back to your own identity.")
    return redirect("accounts:overview")
