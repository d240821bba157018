"""Attach request meta and the console Principal; gate users who must change their password
or bind an MFA device before using the console."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.ids import request_id
from accounts.models import User
from accounts.selectors import principal_for_user
from accounts.sessions import SESSION_FIELD, console_session_valid
from policies.principal import Principal, RequestMeta

PASSWORD_GATE_EXEMPT = ("/console/password", "/console/logout", "/static/")
MFA_GATE_EXEMPT = ("/console/mfa/enroll", "/console/logout", "/static/")


def sign_in_gate(request: HttpRequest) -> HttpResponse | None:
    """Where a signed-in user must go before anything else, or None to carry on.

    The gates run one at a time, password first: the MFA gate waits until the password is
    changed, so neither sends the user away from the page the other one needs.
    """
    if not request.path.startswith("/console/"):
        return None
    if request.session.get("must_change_password"):
        exempt, target = PASSWORD_GATE_EXEMPT, "accounts:password_change"
    elif request.session.get("mfa_enrollment_required"):
        exempt, target = MFA_GATE_EXEMPT, "accounts:mfa_enroll"
    else:
        return None
    return None if request.path.startswith(exempt) else redirect(target)


def request_meta(request: HttpRequest) -> RequestMeta:
    return RequestMeta(
        source_ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        request_id=request_id(),
        secure_transport=request.is_secure(),
    )


def console_principal(request: HttpRequest, user: User, meta: RequestMeta) -> Principal:
    public_id = request.session.get(SESSION_FIELD)
    if not public_id:  # a session not started by the sign-in form (tests, older sessions)
        session_key = request.session.session_key or ""
        public_id = hashlib.sha256(session_key.encode()).hexdigest()[:16] if session_key else ""
    is_verified = getattr(user, "is_verified", None)
    return principal_for_user(
        user,
        mfa_present=bool(is_verified()) if callable(is_verified) else False,
        credential=f"console-session:{public_id}" if public_id else "console-session",
        meta=meta,
    )


def switched_principal(request: HttpRequest, own: Principal) -> Principal | None:
    """The role session a console user switched into, while it is valid."""
    switched = request.session.get("switched_role")
    if not isinstance(switched, dict):
        return None
    from accounts.errors import IamError
    from sts.selectors import sts_record

    record = sts_record(str(switched.get("key", "")))
    try:
        if record is None or not record.source_arn == own.arn:
            raise IamError("InvalidSecurityToken.Expired", "gone")
        record.check(str(switched.get("token", "")))
    except IamError:
        del request.session["switched_role"]
        messages.info(request, "Your role session ended; you are back to your own identity.")
        return None
    principal = record.principal(own.meta)
    request.role_session = record  # type: ignore[attr-defined]
    return replace(principal, mfa_present=own.mfa_present)


class ConsolePrincipalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request_meta(request)
        request.meta = meta  # type: ignore[attr-defined]
        request.principal = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated and not console_session_valid(request.session):
            # Ended by an operator, a lockdown or a logout elsewhere: sign out now.
            logout(request)
            if request.path.startswith("/console/"):
                messages.warning(request, "Your session was ended. Please sign in again.")
                return redirect("accounts:login")
            user = request.user
        if user.is_authenticated and isinstance(user, User):
            principal = console_principal(request, user, meta)
            request.principal = switched_principal(request, principal) or principal  # type: ignore[attr-defined]
            gate = sign_in_gate(request)
            if gate is not None:
                return gate
        elif not user.is_authenticated and FEDERATED_FIELD in request.session:
            federated = federated_principal(request, meta)
            if federated is None and request.path.startswith("/console/"):
                return redirect("accounts:login")
            request.principal = federated  # type: ignore[attr-defined]
            if federated is not None and request.path.startswith(FEDERATED_FORBIDDEN):
                messages.info(
                    request,
                    "You are signed in as a role through single sign-on: that page belongs to "
                    "a RAM user's own credentials.",
                )
                return redirect("accounts:overview")
        response = self.get_response(request)
        response["X-Request-Id"] = meta.request_id
        return response


# A console session entered through role SSO has a role session, no RAM user: pages about a
# user's own password, MFA, keys or step-up are not for it.
FEDERATED_FIELD = "federated_role"
FEDERATED_FORBIDDEN = (
    "/console/password",
    "/console/credentials",
    "/console/mfa",
    "/console/reauth",
    "/console/welcome",
    "/console/switch-role",
)


def federated_principal(request: HttpRequest, meta: RequestMeta) -> Principal | None:
    """The role session a browser entered through role SSO, while it is valid."""
    from accounts.errors import IamError
    from sts.selectors import sts_record

    entry = request.session.get(FEDERATED_FIELD)
    record = sts_record(str(entry.get("key", ""))) if isinstance(entry, dict) else None
    try:
        if record is None or not isinstance(entry, dict):
            raise IamError("InvalidSecurityToken.Expired", "gone")
        record.check(str(entry.get("token", "")))
    except IamError:
        request.session.flush()
        messages.info(request, "Your role session ended. Sign in again at your identity provider.")
        return None
    request.role_session = record  # type: ignore[attr-defined]
    return record.principal(meta)


class ConsoleLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's login requirement, also satisfied by a role session entered through SSO."""

    def process_view(self, request, view_func, view_args, view_kwargs):  # type: ignore[no-untyped-def]
        if getattr(request, "principal", None) is not None:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
