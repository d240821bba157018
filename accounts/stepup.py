"""Step-up re-authentication: sensitive console actions need the password within minutes.

A sent form (POST) is never replayed after the password: it would run without its CSRF-protected
form and without the user seeing it again. The user goes back to the page it came from with a
message naming the action to repeat; an action started by opening a page (GET) returns to that
page.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

STEP_UP_SECONDS = 300
SESSION_KEY = "reauthenticated_at"
PENDING_KEY = "step_up_pending"

# What a person calls the action behind a step-up URL; other URLs are named after their route.
ACTION_LABELS = {
    "accounts:welcome": "Create administrator",
    "accounts:key_create": "Create AccessKey",
    "accounts:my_key_create": "Create AccessKey",
    "accounts:key_rotate": "Rotate AccessKey",
    "accounts:my_key_rotate": "Rotate AccessKey",
    "accounts:key_rotation": "Save AccessKey rotation settings",
    "accounts:mfa_codes": "Generate new recovery codes",
    "accounts:mfa_remove": "Remove device",
    "accounts:mfa_unbind": "Remove MFA device",
    "accounts:user_delete": "Delete user",
    "accounts:security": "Save password policy",
    "accounts:security_preference": "Save security preference",
    "accounts:account_alias": "Save account alias",
    "audit:retention": "Save audit retention",
    "audit:data_events": "Save data event logging",
    "federation:sso_settings": "Save SSO settings",
    "policies:attach": "Attach policy",
}


def mark_recent_auth(request: HttpRequest) -> None:
    """The password was just entered; say which interrupted action to repeat, if any."""
    request.session[SESSION_KEY] = int(time.time())
    pending = request.session.pop(PENDING_KEY, None)
    if isinstance(pending, dict) and pending.get("action"):
        verb = "now repeat" if pending.get("repeat") else "continue with"
        messages.info(request, f"Password confirmed — {verb} “{pending['action']}”.")


def has_recent_auth(request: HttpRequest) -> bool:
    moment = request.session.get(SESSION_KEY)
    return isinstance(moment, int) and time.time() - moment <= STEP_UP_SECONDS


def step_up_redirect(request: HttpRequest, next_url: str | None = None) -> HttpResponse | None:
    """A redirect to re-authenticate, or None when the password was entered recently."""
    if has_recent_auth(request):
        return None
    return _to_reauth(request, next_url)


def require_recent_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send the user to re-enter the password unless it did so in the last few minutes."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_recent_auth(request):
            return _to_reauth(request, None)
        return view(request, *args, **kwargs)

    return wrapped


def _to_reauth(request: HttpRequest, next_url: str | None) -> HttpResponse:
    """Remember the interrupted action for the message after the password, then ask for it."""
    request.session[PENDING_KEY] = {
        "action": action_label(request),
        "repeat": request.method == "POST",
    }
    target = next_url or return_url(request)
    return redirect("/console/reauth?" + urlencode({"next": target}))


def action_label(request: HttpRequest) -> str:
    """The interrupted action as the user knows it, e.g. "Create AccessKey"."""
    match = request.resolver_match
    if match is None:
        return ""
    fallback = (match.url_name or "").replace("_", " ").capitalize()
    return ACTION_LABELS.get(match.view_name, fallback)


def return_url(request: HttpRequest) -> str:
    """Where to come back after the password: the page itself for GET, the page whose form was
    sent for POST (a POST-only URL can't be opened), else the URL itself."""
    referer = request.META.get("HTTP_REFERER", "")
    if request.method == "POST" and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        if parts.path.startswith("/console/") and not parts.path.startswith("/console/reauth"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()
