"""Django middleware. Settings: `IAMCONSOLE_ROUTES` (a Routes object, or its dotted path, e.g.
"myapp.routes.routes"); `IAMCONSOLE_AUTHORIZER` optional (an Authorizer or its dotted path;
by default one reading IAM_ENDPOINT and the service key from the environment). Views find the
caller in `request.iam_principal` (a Principal; None on a public route)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iamconsole_resource.client import Authorizer
from iamconsole_resource.errors import CONTENT_TYPE, ErrorReply
from iamconsole_resource.guard import check
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes


def _text(value: str) -> str:
    """Django keeps header bytes as latin-1 strings; clients sign the UTF-8 text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _setting(value: Any) -> Any:
    from django.utils.module_loading import import_string

    return import_string(value) if isinstance(value, str) else value


class IamconsoleMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        self.get_response = get_response
        routes = _setting(getattr(settings, "IAMCONSOLE_ROUTES", None))
        if not isinstance(routes, Routes):
            raise ImproperlyConfigured("IAMCONSOLE_ROUTES must name an iamconsole_resource Routes")
        self.routes = routes
        self.authorizer: Authorizer = (
            _setting(getattr(settings, "IAMCONSOLE_AUTHORIZER", None)) or Authorizer()
        )

    def __call__(self, request: Any) -> Any:
        from django.http import HttpResponse

        meta = request.META
        headers = {name.lower(): _text(value) for name, value in request.headers.items()}
        # The Host header exactly as the client sent (and signed) it; not get_host().
        headers["host"] = _text(meta.get("HTTP_HOST") or "") or (
            f"{meta.get('SERVER_NAME', '')}:{meta.get('SERVER_PORT', '')}"
        )
        incoming = IncomingRequest.build(
            method=request.method or "GET",
            path=request.path,
            query_string=meta.get("QUERY_STRING", ""),
            headers=headers,
            body=request.body,
            source_ip=meta.get("REMOTE_ADDR"),
            secure=request.is_secure(),
        )
        outcome = check(self.authorizer, self.routes, incoming)
        if isinstance(outcome, ErrorReply):
            return HttpResponse(outcome.encoded(), status=outcome.status, content_type=CONTENT_TYPE)
        request.iam_principal = outcome.principal
        request.iam_request = incoming
        return self.get_response(request)
