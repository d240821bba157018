"""ASGI middleware: `app = IamconsoleAsgi(app, authorizer, routes)`; the handler finds the
caller in `scope["iamconsole.principal"]`. The question to iamconsole runs in a worker thread
(the pooled client is synchronous and thread-safe)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from iamconsole_resource.client import Authorizer
from iamconsole_resource.errors import ErrorReply, bad_request
from iamconsole_resource.guard import check
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def _reply(send: Send, error: ErrorReply) -> None:
    body = error.encoded()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json;charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class IamconsoleAsgi:
    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        authorizer: Authorizer,
        routes: Routes,
        *,
        max_body: int = 1 << 20,
    ) -> None:
        self.app, self.authorizer, self.routes, self.max_body = app, authorizer, routes, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _reply(send, bad_request("InvalidParameter.RequestSize", "Too large."))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        client = scope.get("client")
        request = IncomingRequest.build(
            method=scope.get("method", "GET"),
            path=scope.get("path") or "/",
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])},
            body=body,
            source_ip=client[0] if client else None,
            secure=scope.get("scheme") == "https",
        )
        outcome = await asyncio.to_thread(check, self.authorizer, self.routes, request)
        if isinstance(outcome, ErrorReply):
            await _reply(send, outcome)
            return
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        inner = dict(scope)
        inner["iamconsole.principal"] = outcome.principal
        inner["iamconsole.request"] = request
        await self.app(inner, replay, send)
