"""The client package's ASGI and Django middlewares against the live server (the WSGI one is
driven in test_authorization_api.py).

uvicorn isn't a dependency, so the ASGI app is served by a small HTTP-to-ASGI bridge on
loopback (one asyncio.run per request) and called by the official tea SDK. The Django
middleware is called in-process with RequestFactory requests signed with openapi.signature."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from iamconsole_resource import Authorizer, IamconsoleAsgi, Principal, Routes
from iamconsole_resource.django import IamconsoleMiddleware

from accounts.models import User
from openapi import signature
from tests.resource_services.conftest import CallError, demo_routes, grant, tea_call

pytestmark = pytest.mark.django_db(transaction=True)


def reader_policy(uid: str) -> dict:
    return {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:PutObject"],
                "Resource": f"acs:oss:*:{uid}:b1/*",
            }
        ],
    }


@pytest.fixture
def robot(tenant, api_for):
    user = tenant.make_user("robot", console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    api = api_for(user)
    return user, api.key_id, api.secret


# --- ASGI -------------------------------------------------------------------------------


async def echo(scope: dict, receive: Any, send: Any) -> None:
    """The guarded ASGI app: the principal it was handed, and the body it read."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    principal = scope["iamconsole.principal"]
    payload = json.dumps(
        {"Arn": principal.arn, "Type": principal.type, "Body": body.decode()}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def serve_asgi(app: Any) -> ThreadingHTTPServer:
    """A minimal HTTP/1.1 server handing each request to `app` as ASGI."""

    class Bridge(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def handle_one(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": self.command,
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "query_string": query.encode("latin-1"),
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in self.headers.items()
                ],
                "client": self.client_address,
                "server": self.server.server_address,
            }
            messages = [{"type": "http.request", "body": body, "more_body": False}]
            sent: list[dict] = []

            async def receive() -> dict:
                return messages.pop(0) if messages else {"type": "http.disconnect"}

            async def send(message: dict) -> None:
                sent.append(message)

            asyncio.run(app(scope, receive, send))
            self.send_response(sent[0]["status"])
            payload = b"".join(m.get("body", b"") for m in sent[1:])
            for name, value in sent[0].get("headers", []):
                if name.lower() != b"content-length":
                    self.send_header(name.decode(), value.decode())
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = handle_one

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bridge)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def asgi_service(live_server, service) -> Iterator[Any]:
    """asgi_service(owner_uid) -> "127.0.0.1:PORT" of an IamconsoleAsgi-guarded app."""
    servers: list[ThreadingHTTPServer] = []

    def start(owner_uid: str) -> str:
        authorizer = Authorizer(live_server.url, service.key_id, service.secret, timeout=10)
        server = serve_asgi(IamconsoleAsgi(echo, authorizer, demo_routes(owner_uid)))
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_asgi_allowed_and_denied_for_a_tea_v3_caller(tenant, robot, asgi_service):
    user, key_id, secret = robot
    uid = tenant.account.uid
    endpoint = asgi_service(uid)
    query = {"Bucket": "b1", "Key": "k1"}
    with pytest.raises(CallError) as refused:
        tea_call(endpoint, key_id, secret, "PutObject", query, {"Content": "hello world"})
    assert (refused.value.status, refused.value.code) == (403, "NoPermission")
    grant(tenant, user, reader_policy(uid))
    body = tea_call(endpoint, key_id, secret, "PutObject", query, {"Content": "hello world"})
    assert body == {
        "Arn": f"acs:ram::{uid}:user/robot",
        "Type": "RAMUser",
        "Body": "Content=hello+world",
    }
    with pytest.raises(CallError) as other:
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b2", "Key": "k1"})
    assert other.value.code == "NoPermission"
    with pytest.raises(CallError) as bad:
        tea_call(endpoint, key_id, "wrong", "GetObject", query)
    assert bad.value.code == "SignatureDoesNotMatch"


# --- Django -----------------------------------------------------------------------------

HOST = "objects.example:8443"
ROUTES = Routes()


def _bucket(request: Any) -> str:
    return f"acs:oss:*:{CallerAccount.uid}:{request.params['Bucket']}"


class CallerAccount:
    """The resource owner of the Django tests' routes (set per test)."""

    uid = ""


ROUTES.add("GetObject", "oss:GetObject", lambda r: f"{_bucket(r)}/{r.params['Key']}")


def v3_signed(key_id: str, secret: str, action: str, query: dict[str, str]) -> dict[str, Any]:
    """RequestFactory arguments for a V3-signed POST, signed by openapi.signature."""
    headers = {
        "host": HOST,
        "x-acs-action": action,
        "x-acs-version": "2026-12-01",
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": signature.EMPTY_SHA256,
    }
    names = sorted(headers)
    canonical = signature.v3_canonical_request(
        "POST",
        "/",
        list(query.items()),
        {k: [v] for k, v in headers.items()},
        names,
        signature.EMPTY_SHA256,
    )
    headers["authorization"] = (
        f"{signature.V3_ALGORITHM} Credential={key_id},SignedHeaders={';'.join(names)},"
        f"Signature={signature.v3_signature(signature.v3_string_to_sign(canonical), secret)}"
    )
    host = headers.pop("host")
    return {"QUERY_STRING": urlencode(query), "HTTP_HOST": host, "headers": headers}


def v1_signed(key_id: str, secret: str, action: str, query: dict[str, str]) -> dict[str, Any]:
    params = {
        **query,
        "Action": action,
        "Version": "2026-12-01",
        "Format": "JSON",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "AccessKeyId": key_id,
    }
    params["Signature"] = signature.v1_signature(
        signature.v1_string_to_sign("POST", params), secret
    )
    return {"QUERY_STRING": urlencode(params), "HTTP_HOST": HOST, "headers": {}}


def seen_by_view(request: Any) -> HttpResponse:
    principal = request.iam_principal
    assert isinstance(principal, Principal)
    return HttpResponse(json.dumps({"Arn": principal.arn, "Type": principal.type}))


def django_call(middleware: IamconsoleMiddleware, signed: dict[str, Any]) -> Any:
    request = RequestFactory().generic(
        "POST",
        "/",
        data=b"",
        content_type="application/octet-stream",
        REMOTE_ADDR="127.0.0.1",
        **signed,
    )
    return middleware(request)


@pytest.fixture
def guarded_view(live_server, service, tenant) -> Iterator[IamconsoleMiddleware]:
    CallerAccount.uid = tenant.account.uid
    authorizer = Authorizer(live_server.url, service.key_id, service.secret, timeout=10)
    with override_settings(
        IAMCONSOLE_ROUTES=f"{__name__}.ROUTES", IAMCONSOLE_AUTHORIZER=authorizer
    ):
        yield IamconsoleMiddleware(seen_by_view)
    authorizer.close()


@pytest.mark.parametrize("signed", [v3_signed, v1_signed], ids=["v3", "v1"])
def test_django_allowed_and_denied(signed, tenant, robot, guarded_view):
    user, key_id, secret = robot
    uid = tenant.account.uid
    query = {"Bucket": "b1", "Key": "k1"}
    denied = django_call(guarded_view, signed(key_id, secret, "GetObject", query))
    assert denied.status_code == 403
    assert json.loads(denied.content)["Code"] == "NoPermission"
    grant(tenant, user, reader_policy(uid))
    allowed = django_call(guarded_view, signed(key_id, secret, "GetObject", query))
    assert allowed.status_code == 200, allowed.content
    assert json.loads(allowed.content) == {"Arn": f"acs:ram::{uid}:user/robot", "Type": "RAMUser"}
    outside = django_call(
        guarded_view, signed(key_id, secret, "GetObject", {**query, "Bucket": "b2"})
    )
    assert outside.status_code == 403


def test_django_replay_and_wrong_secret_are_iamconsoles_errors(tenant, robot, guarded_view):
    user, key_id, secret = robot
    grant(tenant, user, reader_policy(tenant.account.uid))
    call = v3_signed(key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k1"})
    assert django_call(guarded_view, call).status_code == 200
    replayed = django_call(guarded_view, call)
    assert (replayed.status_code, json.loads(replayed.content)["Code"]) == (
        400,
        "SignatureNonceUsed",
    )
    wrong = v3_signed(key_id, "x", "GetObject", {"Bucket": "b1", "Key": "k"})
    assert json.loads(django_call(guarded_view, wrong).content)["Code"] == "SignatureDoesNotMatch"
    # The Host header is signed: the same call received under another name doesn't verify.
    moved = v3_signed(key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    moved["HTTP_HOST"] = "elsewhere.example"
    assert json.loads(django_call(guarded_view, moved).content)["Code"] == "SignatureDoesNotMatch"
