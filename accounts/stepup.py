"""Step-up re-authentication: sensitive console actions need the password within minutes."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

STEP_UP_SECONDS = 300
SESSION_KEY = "reauthenticated_at"


def mark_recent_auth(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = int(time.time())


def has_recent_auth(request: HttpRequest) -> bool:
    moment = request.session.get(SESSION_KEY)
    return isinstance(moment, int) and time.time() - moment <= STEP_UP_SECONDS


def step_up_redirect(request: HttpRequest, next_url: str | None = None) -> HttpResponse | None:
    """A redirect to re-authenticate, or None when the password was entered recently."""
    if has_recent_auth(request):
        return None
    target = next_url or request.get_full_path()
    return redirect("/console/reauth?" + urlencode({"next": target}))


def require_recent_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send the user to re-enter the password unless it did so in the last few minutes."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_recent_auth(request):
            return redirect("/console/reauth?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapped
