"""Django middleware. Settings: `IAMCONSOLE_ROUTES = "myapp.routes.routes"` (a Routes object);
the Authorizer reads IAM_ENDPOINT and the service key from the environment. Views find the
caller in `request.iam_principal`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from iamconsole_resource.client import Authorizer
from iamconsole_resource.errors import ErrorReply
from iamconsole_resource.guard import check
from iamconsole_resource.request import IncomingRequest


class IamconsoleMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings
        from django.utils.module_loading import import_string

        self.get_response = get_response
        self.routes = import_string(getattr(settings, "IAMCONSOLE_ROUTES"))  # noqa: B009
        self.authorizer = getattr(settings, "IAMCONSOLE_AUTHORIZER", None) or Authorizer()

    def __call__(self, request: Any) -> Any:
        from django.http import HttpResponse

        incoming = IncomingRequest.build(
            method=request.method or "GET",
            path=request.path,
            query_string=request.META.get("QUERY_STRING", ""),
            headers={**dict(request.headers), "host": request.META.get("HTTP_HOST", "")},
            body=request.body,
            source_ip=request.META.get("REMOTE_ADDR"),
            secure=request.is_secure(),
        )
        outcome = check(self.authorizer, self.routes, incoming)
        if isinstance(outcome, ErrorReply):
            return HttpResponse(
                outcome.encoded(), status=outcome.status, content_type="application/json"
            )
        request.iam_principal = outcome.principal
        return self.get_response(request)
