"""Console pages for the AccessKey rotation policy: settings, dry-run preview, per-key
exemption and rotation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access_keys, rotation
from accounts.arns import account_resource
from accounts.console import handle_iam_errors
from accounts.errors import IamError
from accounts.forms import KeyExemptForm, KeyRotationForm
from accounts.key_views import _owner, _owner_url, hold_for_reveal, take_for_reveal
from accounts.stepup import require_recent_auth, step_up_redirect
from audit.services import changes, event_record
from policies.guards import require

FIELDS = (
    "enabled",
    "max_age_days",
    "warn_before_days",
    "unused_days",
    "action",
    "delete_after_deactivated_days",
    "rotation_grace_days",
)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def key_rotation(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    resource = account_resource(principal.account_uid)
    require(principal, "ram:GetSecurityPreference", resource)
    rules = rotation.rotation_policy_of(principal.account_id)
    form = KeyRotationForm(request.POST or None, initial={f: getattr(rules, f) for f in FIELDS})
    if request.method == "POST":
        require(principal, "ram:SetSecurityPreference", resource)
        if (step_up := step_up_redirect(request)) is not None:
            return step_up
        if form.is_valid():
            before = {f: getattr(rules, f) for f in FIELDS}
            for field in FIELDS:
                setattr(rules, field, form.cleaned_data[field])
            rules.save()
            event_record(
                actor=principal,
                action="ram:SetKeyRotationPolicy",
                target_arn=resource,
                details=changes(before, {f: getattr(rules, f) for f in FIELDS}),
            )
            messages.success(request, "AccessKey rotation policy saved.")
            return redirect("accounts:key_rotation")
    preview = rotation.enforce(principal.account_id, dry_run=True) if rules.enabled else []
    return render(
        request,
        "accounts/key_rotation.html",
        {"form": form, "preview": preview, "rules": rules},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@never_cache
@handle_iam_errors
@require_recent_auth
def key_rotate(request: HttpRequest, key_id: str, name: str | None = None) -> HttpResponse:
    """Create the key's successor (secret shown once); the old one retires after the grace."""
    principal = request.principal  # type: ignore[attr-defined]
    owner = _owner(request, name)
    back = _owner_url(owner, request)
    key = access_keys.get_key(principal, owner, key_id, "ram:CreateAccessKey")
    if request.method == "POST":
        try:
            new, secret = access_keys.access_key_rotate(
                actor=principal, user=owner, access_key_id=key_id
            )
        except IamError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, exc.message)
            return redirect(back)
        # post/redirect/get: reloading the page that shows the secret never rotates again.
        return redirect(hold_for_reveal(request, owner, new, secret))
    created = request.GET.get("created")
    if created:
        new = access_keys.get_key(principal, owner, created, "ram:CreateAccessKey")
        response = render(
            request,
            "accounts/key_reveal.html",
            {
                "owner": owner,
                "key": new,
                "secret": take_for_reveal(request, owner, new.access_key_id),
                "back": back,
                "rotated_from": key,
            },
        )
        response["Cache-Control"] = "no-store"
        return response
    grace = rotation.rotation_policy_of(owner.account_id).rotation_grace_days
    return render(
        request,
        "accounts/key_rotate.html",
        {"owner": owner, "key": key, "back": back, "grace": grace},
    )


@require_POST
@handle_iam_errors
def key_exempt(request: HttpRequest, key_id: str, name: str | None = None) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    owner = _owner(request, name)
    form = KeyExemptForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an end date (YYYY-MM-DD) and a reason for the exemption.")
        return redirect(_owner_url(owner, request))
    try:
        access_keys.access_key_exempt(
            actor=principal,
            user=owner,
            access_key_id=key_id,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
        )
    except IamError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"AccessKey {key_id} is exempt until {form.cleaned_data['until']}."
        )
    return redirect(_owner_url(owner, request))
