"""Operators' view of who is signed in: console and STS sessions, ending them, and the
one-click lockdown of a user."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.console import confirm, handle_iam_errors, render_error
from accounts.errors import IamError, NotFound
from accounts.models import ConsoleSession
from accounts.selectors import find_user
from accounts.sessions import active_console_sessions, console_session_terminate, user_lockdown
from audit.forms import LockdownForm
from policies.guards import allowed, require
from sts.models import StsSession
from sts.views import session_revoke_confirmed

SHOWN = 200


@handle_iam_errors
def sessions(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:LookupEvents", f"acs:audit:*:{principal.account_uid}:event/*")
    console_rows = list(active_console_sessions(principal.account_id)[:SHOWN])
    sts_rows = list(
        StsSession.objects.filter(
            account_id=principal.account_id, revoked_at=None, expires_at__gt=timezone.now()
        )
        .select_related("role", "account")
        .order_by("-created_at")[:SHOWN]
    )
    for row in console_rows:
        row.can_end = allowed(principal, "ram:TerminateConsoleSession", row.user.resource_arn)  # type: ignore[attr-defined]
        row.can_lock = not row.user.is_root and allowed(  # type: ignore[attr-defined]
            principal, "ram:LockdownUser", row.user.resource_arn
        )
    for sts_row in sts_rows:
        sts_row.can_end = allowed(principal, "sts:RevokeSession", sts_row.role.resource_arn)  # type: ignore[attr-defined]
    return render(
        request,
        "audit/sessions.html",
        {"console_rows": console_rows, "sts_rows": sts_rows, "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def console_session_end(request: HttpRequest, public_id: str) -> HttpResponse:
    """Confirm (GET), then end one console session (POST)."""
    principal = request.principal  # type: ignore[attr-defined]
    row = (
        ConsoleSession.objects.select_related("user", "user__account")
        .filter(account_id=principal.account_id, public_id=public_id)
        .first()
    )
    if row is None:
        raise NotFound("EntityNotExist.Session", "That session does not exist.")
    if request.method == "POST":
        console_session_terminate(actor=principal, row=row)
        messages.success(request, f"Session of {row.user.name} ended.")
        return redirect("audit:sessions")
    require(principal, "ram:TerminateConsoleSession", row.user.resource_arn)
    return confirm(
        request,
        title=f"End the console session of {row.user.name}?",
        message="The browser using it is signed out at its next request. The user can sign "
        "in again unless you also lock the user down or remove console access.",
        details=[
            f"Session: {row.public_id}",
            f"Source IP: {row.source_ip or '—'}",
            f"Since: {row.created_at:%Y-%m-%d %H:%M:%S} UTC",
        ],
        action_url=request.path,
        cancel_url=reverse("audit:sessions"),
        button="Terminate session",
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def sts_session_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    """Confirm (GET), then revoke one role session (POST)."""
    principal = request.principal  # type: ignore[attr-defined]
    session = (
        StsSession.objects.select_related("role__account", "account")
        .filter(account_id=principal.account_id, access_key_id=key_id)
        .first()
    )
    if session is None:
        raise NotFound("EntityNotExist.Session", "That session does not exist.")
    return session_revoke_confirmed(
        request,
        session,
        back=reverse("audit:sessions"),
        title=f"Revoke role session {session.role.name}/{session.session_name}?",
        done=f"Role session {session.session_name} revoked.",
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def lockdown(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    subject = find_user(principal.account_id, name)
    require(principal, "ram:LockdownUser", subject.resource_arn)
    form = LockdownForm(request.POST or None)
    context = {
        "subject": subject,
        "form": form,
        "cancel_url": reverse("accounts:user_detail", args=[subject.name]),
    }
    if request.method == "POST" and form.is_valid():
        try:
            summary = user_lockdown(
                actor=principal, user=subject, reason=form.cleaned_data["reason"]
            )
        except IamError as exc:
            return render_error(request, "audit/lockdown.html", context, exc)
        messages.success(
            request,
            f"{subject.name} is locked down: console sign-in removed, "
            f"{summary['console_sessions']} console session(s) ended, "
            f"{summary['access_keys']} AccessKey(s) deactivated, "
            f"{summary['sts_sessions']} role session(s) revoked.",
        )
        return redirect("accounts:user_detail", name=subject.name)
    return render(request, "audit/lockdown.html", context, status=400 if form.is_bound else 200)
