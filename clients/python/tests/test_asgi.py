"""The ASGI middleware driven by a hand-written harness (support.call_asgi): no framework."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from iamconsole_resource import Authorizer, IamconsoleAsgi, Routes
from support import (
    OWNER,
    SERVICE_KEY,
    SERVICE_SECRET,
    asgi_echo,
    asgi_scope,
    call_asgi,
    deny,
    v3_request,
)

ROUTES = Routes()
ROUTES.add("PutObject", "oss:PutObject", lambda r: f"acs:oss:*:{OWNER}:b/{r.params['Key']}")


def app_for(endpoint: str, inner: Any = None, max_body: int = 1 << 20) -> IamconsoleAsgi:
    authorizer = Authorizer(endpoint, SERVICE_KEY, SERVICE_SECRET, timeout=2)
    return IamconsoleAsgi(inner or asgi_echo(), authorizer, ROUTES, max_body=max_body)


def put(content: str = "hello") -> Any:
    return v3_request("PutObject", {"Key": "k"}, {"Content": content})


def test_allowed_the_app_gets_the_principal_and_the_body(iam):
    request = put()
    half = len(request.body) // 2
    chunks = [request.body[:half], b"", request.body[half:]]  # more_body on all but the last
    reply = call_asgi(app_for(iam.url), asgi_scope(request), chunks)
    assert reply is not None and reply.status == 200
    assert reply.json() == {"Arn": f"acs:ram::{OWNER}:user/alice", "Body": "Content=hello"}
    assert iam.questions[0]["Request"]["BodySha256"] == request.headers["x-acs-content-sha256"]


def test_denied_the_error_is_sent_and_the_app_never_runs(iam):
    iam.body = deny("NoPermission", 403, "nope")
    ran: list[bool] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        ran.append(True)

    request = put()
    reply = call_asgi(app_for(iam.url, inner), asgi_scope(request), [request.body])
    assert reply is not None
    assert (reply.status, reply.json()["Code"], reply.json()["Message"]) == (
        403,
        "NoPermission",
        "nope",
    )
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert int(reply.headers["content-length"]) == len(reply.body)
    assert ran == []


def test_unreachable_is_503(closed_port):
    request = put()
    reply = call_asgi(
        app_for(f"http://127.0.0.1:{closed_port}"), asgi_scope(request), [request.body]
    )
    assert reply is not None and (reply.status, reply.json()["Code"]) == (503, "ServiceUnavailable")


def test_a_body_over_the_limit_is_413_without_asking(iam):
    request = put("x" * 500)
    scope = asgi_scope(request)
    reply = call_asgi(app_for(iam.url, max_body=100), scope, [request.body])
    assert reply is not None and reply.status == 413
    # Streamed without a Content-Length, the limit still holds.
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"content-length"]
    chunks = [request.body[i : i + 64] for i in range(0, len(request.body), 64)]
    reply = call_asgi(app_for(iam.url, max_body=100), scope, chunks)
    assert reply is not None and reply.status == 413
    assert iam.questions == []


def test_a_caller_who_leaves_gets_nothing_and_nobody_is_asked(iam):
    assert call_asgi(app_for(iam.url), asgi_scope(put()), disconnect=True) is None
    assert iam.questions == []


def test_the_question_does_not_block_the_event_loop(iam):
    """While iamconsole thinks, the loop keeps serving (the call runs in a worker thread)."""
    gate = threading.Event()

    def slow(question: dict) -> dict:
        gate.wait(5)
        return dict(iam.body)

    iam.answer = slow
    request = put()

    async def main() -> list[int]:
        app = app_for(iam.url)
        statuses: list[int] = []

        async def one() -> None:
            sent: list[dict] = []
            messages = [{"type": "http.request", "body": request.body, "more_body": False}]

            async def receive() -> dict:
                return messages.pop(0) if messages else {"type": "http.disconnect"}

            async def send(message: dict) -> None:
                sent.append(message)

            await app(asgi_scope(request), receive, send)
            statuses.append(sent[0]["status"])

        task = asyncio.create_task(one())
        await asyncio.sleep(0.2)
        assert not task.done()  # waiting on iamconsole …
        gate.set()  # … and the loop was free to run this
        await task
        return statuses

    assert asyncio.run(main()) == [200]


def test_lifespan_passes_through_and_websockets_are_refused(iam):
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    app = app_for(iam.url, inner)
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    asyncio.run(app({"type": "websocket", "path": "/", "headers": []}, receive, send))
    assert seen == ["lifespan"]
    assert sent == [{"type": "websocket.close", "code": 1008}]
