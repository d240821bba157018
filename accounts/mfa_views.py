"""Console pages for MFA: enrollment (QR + secret, confirm with a code, recovery codes shown
once), the user's own MFA page, and an administrator's unbind."""

from __future__ import annotations

import django_otp
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import mfa, selectors
from accounts.console import confirm, handle_iam_errors
from accounts.errors import Conflict, IamError, InvalidParameter
from accounts.models import User
from accounts.preferences import security_preference_of
from accounts.stepup import require_recent_auth
from audit.services import event_record


class EnrollForm(forms.Form):
    code = forms.CharField(max_length=6, min_length=6, strip=True, label="Code from your app")


def _me(request: HttpRequest) -> User:
    return User.objects.select_related("account").get(pk=request.user.pk or 0)


def _show_codes(request: HttpRequest, codes: list[str], user: User) -> HttpResponse:
    response = render(request, "accounts/mfa_codes.html", {"codes": codes, "subject": user})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@never_cache
@handle_iam_errors
def enroll(request: HttpRequest) -> HttpResponse:
    """Scan or type the secret, confirm with a current code, then save the recovery codes."""
    user = _me(request)
    principal = request.principal  # type: ignore[attr-defined]
    if mfa.has_mfa(user):
        messages.info(request, "You already have an MFA device.")
        return redirect("accounts:my_mfa")
    form = EnrollForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.enrollment_confirm(
                actor=principal, user=user, code=form.cleaned_data["code"]
            )
        except IamError as exc:
            error = exc.message
        else:
            device = mfa.confirmed_totp(user)
            django_otp.login(request, device)  # this session is now MFA-verified
            request.session["mfa_enrollment_required"] = False
            return _show_codes(request, codes, user)
    device = mfa.pending_device(user) or mfa.enrollment_start(user)
    return render(
        request,
        "accounts/mfa_enroll.html",
        {
            "form": form,
            "error": error,
            "qr": mfa.qr_svg(device),
            "secret": mfa.base32_secret(device),
            "gated": request.session.get("mfa_enrollment_required", False),
        },
        status=400 if error else 200,
    )


@handle_iam_errors
def my_mfa(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    preference = security_preference_of(user.account_id)
    return render(
        request,
        "accounts/mfa_status.html",
        {
            "subject": user,
            "enrolled": mfa.has_mfa(user),
            "codes_left": mfa.recovery_codes_left(user),
            "required": mfa.mfa_required(user),
            "can_manage": user.is_root or preference.allow_user_to_manage_mfa_devices,
            "remember_allowed": preference.enable_save_mfa_ticket,
        },
    )


@require_POST
@never_cache
@handle_iam_errors
@require_recent_auth
def regenerate_codes(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    try:
        codes = mfa.recovery_codes_regenerate(
            actor=request.principal,  # type: ignore[attr-defined]
            user=user,
        )
    except InvalidParameter as exc:
        messages.error(request, exc.message)
        return redirect("accounts:my_mfa")
    return _show_codes(request, codes, user)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
@require_recent_auth
def remove_own(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if request.method == "POST":
        try:
            mfa.unbind(actor=request.principal, user=user)  # type: ignore[attr-defined]
        except Conflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your MFA device was removed.")
        return redirect("accounts:my_mfa")
    return confirm(
        request,
        title="Remove your MFA device?",
        message="Sign-in will need only your password, and your recovery codes stop working.",
        action_url=request.path,
        cancel_url=reverse("accounts:my_mfa"),
        button="Remove device",
    )


@require_POST
@handle_iam_errors
def forget_devices(request: HttpRequest) -> HttpResponse:
    """Revoke every "remember this device" ticket of the signed-in user."""
    user = _me(request)
    User.objects.filter(pk=user.pk).update(mfa_ticket_version=user.mfa_ticket_version + 1)
    event_record(
        actor=request.principal,  # type: ignore[attr-defined]
        action="console:ForgetRememberedDevices",
        target_arn=user.arn,
    )
    messages.success(request, "Remembered devices will be asked for a code again.")
    return redirect("accounts:my_mfa")


@require_http_methods(["GET", "POST"])
@handle_iam_errors
@require_recent_auth
def unbind_user(request: HttpRequest, name: str) -> HttpResponse:
    """An administrator removes a user's MFA device (lost phone), after step-up."""
    principal = request.principal  # type: ignore[attr-defined]
    user = selectors.get_user_for_actor(principal, name, action="ram:UnbindMFADevice")
    back = reverse("accounts:user_detail", args=[user.name])
    if request.method == "POST":
        mfa.unbind(actor=principal, user=user)
        messages.success(request, f"The MFA device of {user.name} was removed.")
        return redirect(back)
    return confirm(
        request,
        title=f"Remove the MFA device of {user.name}?",
        message="Do this when the user lost the device. The user signs in with the "
        "password only until it binds a new device (set 'Require MFA binding' to force "
        "that).",
        action_url=request.path,
        cancel_url=back,
        button="Remove device",
    )
