"""WSGI middleware: `app = IamconsoleWsgi(app, authorizer, routes)`; the handler finds the
caller in `environ["iamconsole.principal"]`."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from iamconsole_resource.client import Authorizer
from iamconsole_resource.errors import ErrorReply, bad_request
from iamconsole_resource.guard import check
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

PRINCIPAL = "iamconsole.principal"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def reply(start_response: Callable[..., Any], error: ErrorReply) -> list[bytes]:
    body = error.encoded()
    start_response(
        f"{error.status} {'Error'}",
        [("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


class IamconsoleWsgi:
    def __init__(
        self, app: WsgiApp, authorizer: Authorizer, routes: Routes, *, max_body: int = 1 << 20
    ) -> None:
        self.app, self.authorizer, self.routes, self.max_body = app, authorizer, routes, max_body

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= self.max_body:
            return reply(start_response, bad_request("InvalidParameter.RequestSize", "Too large."))
        body = environ["wsgi.input"].read(length) if length else b""
        request = IncomingRequest.build(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO") or "/",
            query_string=environ.get("QUERY_STRING", ""),
            headers=_headers(environ),
            body=body,
            source_ip=environ.get("REMOTE_ADDR"),
            secure=environ.get("wsgi.url_scheme") == "https",
        )
        outcome = check(self.authorizer, self.routes, request)
        if isinstance(outcome, ErrorReply):
            return reply(start_response, outcome)
        environ["wsgi.input"] = io.BytesIO(body)
        environ[PRINCIPAL] = outcome.principal
        environ["iamconsole.request"] = request
        return self.app(environ, start_response)
