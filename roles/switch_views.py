"""Console switch-role: act as a role session (its permissions only), then switch back."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.errors import IamError
from audit.services import event_record
from sts.services import assume_role

SESSION_KEY = "switched_role"


class SwitchRoleForm(forms.Form):
    role_arn = forms.CharField(
        max_length=200, label="Role ARN", help_text="acs:ram::<account uid>:role/<role name>"
    )
    duration = forms.IntegerField(
        min_value=900, max_value=43200, initial=3600, label="Session duration (seconds)"
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
                )
            except IamError as exc:
                error = exc.message
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
