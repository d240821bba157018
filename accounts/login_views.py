"""Sign-in pages: password, then the second factor when the user has MFA; sign-out."""

from __future__ import annotations

import time

import django_otp
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import login as signin
from accounts import mfa
from accounts.forms import LoginForm
from accounts.models import User
from accounts.preferences import security_preference_of
from accounts.sessions import console_session_end, console_session_start
from accounts.stepup import mark_recent_auth

PENDING_KEY = "mfa_pending"
SIGN_IN_UNAVAILABLE = (
    "Sign-in is temporarily unavailable (the sign-in rate limiter can't be reached). "
    "Try again in a few minutes; if this persists, tell the operator."
)
PENDING_SECONDS = 300


class MfaCodeForm(forms.Form):
    code = forms.CharField(max_length=32, strip=True, label="Authentication code", required=False)
    remember = forms.BooleanField(required=False, label="Remember this device for 7 days")


def complete_login(
    request: HttpRequest, user: User, device: object | None, must_change: bool
) -> HttpResponse:
    """All factors passed: start a fresh session, scoped by the account's preferences."""
    login(request, user, backend="accounts.backends.ConsoleBackend")  # rotates the session key
    if device is not None:
        django_otp.login(request, device)
    mark_recent_auth(request)
    preference = security_preference_of(user.account_id)
    request.session.set_expiry(preference.login_session_duration * 3600)
    console_session_start(
        request.session,
        user,
        mfa=device is not None,
        meta=request.meta,  # type: ignore[attr-defined]
    )
    request.session["must_change_password"] = must_change
    request.session["mfa_enrollment_required"] = device is None and mfa.mfa_required(user)
    # One gate at a time, password first (accounts.middleware.sign_in_gate).
    if must_change:
        messages.warning(request, "You must choose a new password before continuing.")
        return redirect("accounts:password_change")
    if request.session["mfa_enrollment_required"]:
        messages.warning(request, "Your account requires MFA: bind a device to continue.")
        return redirect("accounts:mfa_enroll")
    return redirect("accounts:overview")


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:overview")
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            result = signin.login_attempt(
                identifier=form.cleaned_data["login"],
                password=form.cleaned_data["password"],
                meta=request.meta,  # type: ignore[attr-defined]
            )
        except signin.SignInUnavailable:
            return render(
                request,
                "accounts/login.html",
                {"form": form, "error": SIGN_IN_UNAVAILABLE},
                status=503,
            )
        user = result.user
        if user is not None:
            device = mfa.confirmed_totp(user)
            if device is None:
                return complete_login(request, user, None, result.must_change_password)
            if mfa.ticket_valid(user, request.COOKIES.get(mfa.TICKET_COOKIE)):
                signin.clear_failures(user)
                return complete_login(request, user, device, result.must_change_password)
            request.session.cycle_key()
            request.session[PENDING_KEY] = {
                "user": user.pk,
                "at": int(time.time()),
                "must_change": result.must_change_password,
            }
            return redirect("accounts:login_mfa")
        error = result.message
    elif request.method == "POST":
        error = "Enter your login name (name@alias.domain, or the root email) and password."
    return render(
        request, "accounts/login.html", {"form": form, "error": error}, status=401 if error else 200
    )


def _pending_user(request: HttpRequest) -> tuple[User | None, bool]:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, False
    user = User.objects.select_related("account").filter(pk=pending.get("user") or 0).first()
    return user, bool(pending.get("must_change"))


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
def login_mfa(request: HttpRequest) -> HttpResponse:
    """The second step: a TOTP code, or a recovery code."""
    user, must_change = _pending_user(request)
    if user is None:
        messages.info(request, "Sign in again.")
        return redirect("accounts:login")
    allow_remember = security_preference_of(user.account_id).enable_save_mfa_ticket
    form = MfaCodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        locked = user.locked_until is not None and user.locked_until.timestamp() > time.time()
        meta = request.meta  # type: ignore[attr-defined]
        code = form.cleaned_data["code"]
        throttled = "" if locked else mfa.sign_in_throttle_message(user, code)
        device = None if locked or throttled else mfa.verify(user, code, meta=meta)
        if device is not None:
            del request.session[PENDING_KEY]
            signin.clear_failures(user)
            response = complete_login(request, user, device, must_change)
            if allow_remember and form.cleaned_data["remember"]:
                user.refresh_from_db(fields=["mfa_ticket_version"])
                response.set_cookie(
                    mfa.TICKET_COOKIE,
                    mfa.ticket_for(user),
                    max_age=mfa.TICKET_DAYS * 86400,
                    httponly=True,
                    secure=request.is_secure(),
                    samesite="Lax",
                )
            return response
        error = throttled or (
            "That code is not right, or too many attempts were made. Enter the 6 digits "
            "your authenticator shows now, or one of your recovery codes."
        )
    return render(
        request,
        "accounts/login_mfa.html",
        {"form": form, "error": error, "allow_remember": allow_remember},
        status=401 if error else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.principal is not None:  # type: ignore[attr-defined]
        signin.logout_record(actor=request.principal)  # type: ignore[attr-defined]
    console_session_end(request.session, "logout")
    logout(request)
    messages.info(request, "You have been signed out.")
    return redirect("accounts:login")
