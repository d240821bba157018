"""Console pages for AccessKeys: list on the owner's page, create (step-up, one-time reveal),
enable/disable, delete; and the step-up re-authentication page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access_keys, crypto, login, selectors
from accounts.console import confirm, handle_iam_errors
from accounts.errors import IamError
from accounts.models import AccessKey, User
from accounts.stepup import mark_recent_auth, require_recent_auth
from policies.principal import Principal


class ReauthForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=4096)


def _owner(request: HttpRequest, name: str | None) -> User:
    """A RAM user by name, or (no name) the signed-in identity itself."""
    principal: Principal = request.principal  # type: ignore[attr-defined]
    if name is None:
        return User.objects.select_related("account").get(pk=principal.user_pk or 0)
    return selectors.find_user(principal.account_id, name)


def _owner_url(owner: User, request: HttpRequest) -> str:
    if owner.pk == request.principal.user_pk:  # type: ignore[attr-defined]
        return reverse("accounts:my_credentials")
    return reverse("accounts:user_detail", args=[owner.name])


def _key_urls(owner: User, request: HttpRequest) -> str:
    own = owner.pk == request.principal.user_pk  # type: ignore[attr-defined]
    return "/console/credentials/access-keys" if own else f"/console/users/{owner.name}/access-keys"


@require_http_methods(["GET", "POST"])
@never_cache
def reauthenticate(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or "/console/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None) or not target.startswith(
        "/console/"
    ):
        target = "/console/"
    form = ReauthForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        user = User.objects.select_related("account").get(pk=request.user.pk or 0)
        if login.reauthenticate(
            actor=request.principal,  # type: ignore[attr-defined]
            user=user,
            password=form.cleaned_data["password"],
        ):
            mark_recent_auth(request)
            return redirect(target)
        error = "The password is incorrect."
    return render(
        request,
        "accounts/reauth.html",
        {"form": form, "next": target, "error": error},
        status=401 if error else 200,
    )


@handle_iam_errors
def my_credentials(request: HttpRequest) -> HttpResponse:
    """The signed-in identity's own AccessKeys (root's included, with a warning)."""
    owner = _owner(request, None)
    keys = access_keys.keys_of(request.principal, owner)  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/credentials.html",
        {
            "owner": owner,
            "keys": keys,
            "key_base": _key_urls(owner, request),
            "can_create": owner.programmatic_access or owner.is_root,
        },
    )


REVEAL_SESSION_KEY = "access_key_reveal"


def hold_for_reveal(request: HttpRequest, owner: User, key: AccessKey, secret: str) -> str:
    """Keep a new key's secret, sealed, in the session for one display; return the page's URL."""
    request.session[REVEAL_SESSION_KEY] = {
        "key_id": key.access_key_id,
        "owner_pk": owner.pk,
        "sealed": crypto.encrypt(secret, context=f"reveal:{key.access_key_id}"),
    }
    return f"{request.path}?{urlencode({'created': key.access_key_id})}"


def take_for_reveal(request: HttpRequest, owner: User, key_id: str) -> str | None:
    """The held secret of `key_id`, removed from the session: None once it has been shown."""
    held = request.session.get(REVEAL_SESSION_KEY)
    if not held or held.get("key_id") != key_id or held.get("owner_pk") != owner.pk:
        return None
    del request.session[REVEAL_SESSION_KEY]
    try:
        return crypto.decrypt(held["sealed"], context=f"reveal:{key_id}")
    except crypto.SecretUnavailable:
        return None


@require_http_methods(["GET", "POST"])
@never_cache
@handle_iam_errors
@require_recent_auth
def key_create(request: HttpRequest, name: str | None = None) -> HttpResponse:
    """GET: confirm; POST: create, then redirect to a GET that shows the secret once
    (post/redirect/get, so reloading never creates a second key)."""
    principal = request.principal  # type: ignore[attr-defined]
    owner = _owner(request, name)
    back = _owner_url(owner, request)
    if request.method == "POST":
        try:
            key, secret = access_keys.access_key_create(actor=principal, user=owner)
        except IamError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, exc.message)
            return redirect(back)
        return redirect(hold_for_reveal(request, owner, key, secret))
    created = request.GET.get("created")
    if created:
        key = access_keys.get_key(principal, owner, created, "ram:CreateAccessKey")
        response = render(
            request,
            "accounts/key_reveal.html",
            {
                "owner": owner,
                "key": key,
                "secret": take_for_reveal(request, owner, key.access_key_id),
                "back": back,
            },
        )
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "accounts/key_create.html", {"owner": owner, "back": back})


@require_POST
@handle_iam_errors
def key_status(request: HttpRequest, key_id: str, name: str | None = None) -> HttpResponse:
    owner = _owner(request, name)
    status = "Inactive" if request.POST.get("status") == "Inactive" else "Active"
    try:
        access_keys.access_key_set_status(
            actor=request.principal,  # type: ignore[attr-defined]
            user=owner,
            access_key_id=key_id,
            status=status,
        )
    except IamError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        verb = "disabled" if status == "Inactive" else "enabled"
        messages.success(request, f"AccessKey {key_id} {verb}.")
    return redirect(_owner_url(owner, request))


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def key_delete(request: HttpRequest, key_id: str, name: str | None = None) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    owner = _owner(request, name)
    key = access_keys.get_key(principal, owner, key_id, "ram:DeleteAccessKey")
    back = _owner_url(owner, request)
    if request.method == "POST":
        access_keys.access_key_delete(actor=principal, user=owner, access_key_id=key_id)
        messages.success(request, f"AccessKey {key_id} deleted.")
        return redirect(back)
    return confirm(
        request,
        title=f"Delete AccessKey {key.access_key_id}?",
        message="Programs signing with this key stop working at once. Disable it first if you "
        "are not sure nothing uses it."
        + (
            f" Last used {key.last_used_at:%Y-%m-%d %H:%M} UTC."
            if key.last_used_at
            else " It has never been used."
        ),
        action_url=request.path,
        cancel_url=back,
        button="Delete AccessKey",
    )
