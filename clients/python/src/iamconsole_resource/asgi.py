"""ASGI middleware: `app = IamconsoleAsgi(app, authorizer, routes)`; the handler finds the
caller in `scope["iamconsole.principal"]` (a Principal; None on a public route). The question
to iamconsole runs in a worker thread (the pooled client is synchronous and thread-safe).

HTTP requests are checked; lifespan events pass through; WebSocket connections are refused
(close code 1008), since nothing here can authorize them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from iamconsole_resource.client import Authorizer
from iamconsole_resource.errors import CONTENT_TYPE, ErrorReply, bad_request, too_large
from iamconsole_resource.guard import check
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

PRINCIPAL = "iamconsole.principal"
REQUEST = "iamconsole.request"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _reply(send: Send, error: ErrorReply) -> None:
    body = error.encoded()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", CONTENT_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class _Disconnected(Exception):
    pass


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class IamconsoleAsgi:
    def __init__(
        self,
        app: AsgiApp,
        authorizer: Authorizer,
        routes: Routes,
        *,
        max_body: int = 1 << 20,
        source_ip: Callable[[Scope], str | None] | None = None,
    ) -> None:
        """`source_ip(scope)`: the caller's address when a proxy you trust stands in front; by
        default the connection's peer (`scope["client"]`)."""
        self.app, self.authorizer, self.routes, self.max_body = app, authorizer, routes, max_body
        self.source_ip = source_ip or _peer

    async def _body(self, scope: Scope, receive: Receive) -> bytes | ErrorReply:
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return bad_request(
                        "InvalidParameter.ContentLength", "Content-Length is not valid."
                    )
                if declared > self.max_body:
                    return too_large(self.max_body)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return too_large(self.max_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._body(scope, receive)
        except _Disconnected:
            return  # the caller left: nobody to answer
        if isinstance(body, ErrorReply):
            await _reply(send, body)
            return
        path = scope.get("path") or "/"
        root = scope.get("root_path", "")
        if root and not path.startswith(root):
            path = root + path  # servers differ on whether path includes the mount point
        request = IncomingRequest.build(
            method=scope.get("method", "GET"),
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=[(_text(k), _text(v)) for k, v in scope.get("headers", [])],
            body=body,
            source_ip=self.source_ip(scope),
            secure=scope.get("scheme") == "https",
        )
        outcome = await asyncio.to_thread(check, self.authorizer, self.routes, request)
        if isinstance(outcome, ErrorReply):
            await _reply(send, outcome)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        inner = dict(scope)
        inner[PRINCIPAL] = outcome.principal
        inner[REQUEST] = request
        await self.app(inner, replay, send)
