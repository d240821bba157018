"""Alibaba's credentials provider sends `Host: http://127.0.0.1:PORT` when given an http://
STS endpoint; Django's host validation refuses a scheme in Host. Strip it, as early as
possible (WSGI wrapper in iamconsole.wsgi and this first middleware), before any code reads
the host. V1 signatures do not cover Host, so the rewrite is safe; host validation still
applies to what remains."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


def strip_scheme(host: str) -> str:
    return _SCHEME.sub("", host)


class HostSchemeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request.META.get("HTTP_HOST", "")
        if host:
            request.META["HTTP_HOST"] = strip_scheme(host)
        return self.get_response(request)
