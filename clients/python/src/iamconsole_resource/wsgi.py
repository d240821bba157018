"""WSGI middleware: `app = IamconsoleWsgi(app, authorizer, routes)`; the handler finds the
caller in `environ["iamconsole.principal"]` (a Principal; None on a public route)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from iamconsole_resource.client import Authorizer
from iamconsole_resource.errors import CONTENT_TYPE, ErrorReply, bad_request, too_large
from iamconsole_resource.guard import check
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

PRINCIPAL = "iamconsole.principal"
REQUEST = "iamconsole.request"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def reply(start_response: Callable[..., Any], error: ErrorReply) -> list[bytes]:
    body = error.encoded()
    start_response(
        error.status_line,
        [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))],
    )
    return [body]


def _text(value: str) -> str:
    """WSGI hands bytes over as latin-1 strings; clients sign the UTF-8 text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): _text(str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    if "host" not in headers:  # HTTP/1.0 without Host: what the server answers as
        headers["host"] = f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return headers


def _read(stream: Any, length: int) -> bytes:
    """Up to `length` bytes (a read may return fewer)."""
    chunks: list[bytes] = []
    while length > 0:
        chunk = stream.read(length)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


class IamconsoleWsgi:
    """Thread-safe: one instance serves every worker thread."""

    def __init__(
        self,
        app: WsgiApp,
        authorizer: Authorizer,
        routes: Routes,
        *,
        max_body: int = 1 << 20,
        source_ip: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> None:
        """`source_ip(environ)`: the caller's address when a proxy you trust stands in front
        (e.g. from its X-Forwarded-For); by default REMOTE_ADDR, which behind a proxy is the
        proxy's address — and `acs:SourceIp` conditions would be decided against it."""
        self.app, self.authorizer, self.routes, self.max_body = app, authorizer, routes, max_body
        self.source_ip = source_ip or (lambda environ: environ.get("REMOTE_ADDR"))

    def _body(self, environ: dict[str, Any]) -> bytes | ErrorReply:
        given = environ.get("CONTENT_LENGTH") or ""
        if not given:
            if not environ.get("wsgi.input_terminated"):
                return b""
            # Chunked upload the server de-chunks: read to the end, up to the limit.
            body = _read(environ["wsgi.input"], self.max_body + 1)
            return too_large(self.max_body) if len(body) > self.max_body else body
        try:
            length = int(given)
        except ValueError:
            return bad_request("InvalidParameter.ContentLength", "Content-Length is not valid.")
        if length < 0:
            return bad_request("InvalidParameter.ContentLength", "Content-Length is not valid.")
        if length > self.max_body:
            return too_large(self.max_body)
        return _read(environ["wsgi.input"], length)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = self._body(environ)
        if isinstance(body, ErrorReply):
            return reply(start_response, body)
        path = _text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        request = IncomingRequest.build(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=path or "/",
            query_string=environ.get("QUERY_STRING", ""),
            headers=_headers(environ),
            body=body,
            source_ip=self.source_ip(environ),
            secure=environ.get("wsgi.url_scheme") == "https",
        )
        outcome = check(self.authorizer, self.routes, request)
        if isinstance(outcome, ErrorReply):
            return reply(start_response, outcome)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ[PRINCIPAL] = outcome.principal
        environ[REQUEST] = request
        return self.app(environ, start_response)
