"""Helpers for the package's own tests: pytest and the standard library only (no Django, no
iamconsole). The signing below is re-derived from iamconsole's openapi/signature.py, not
imported from the package under test."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest

CALLER_KEY = "LTAIcaller"
CALLER_SECRET = "caller-secret"
SERVICE_KEY = "LTAIservice"
SERVICE_SECRET = "service-secret"
OWNER = "1234567890123456"


# --- Alibaba's signatures, as openapi/signature.py computes them --------------------------


def pct(value: str) -> str:
    return quote(value, safe="-_.~")


def v1_string_to_sign(method: str, params: dict[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in pairs)
    return f"{method.upper()}&{pct('/')}&{pct(canonical)}"


def v1_signature(string_to_sign: str, secret: str) -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def v3_canonical(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, list[str]],
    signed: list[str],
    payload_hash: str,
) -> str:
    canonical_query = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(query))
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.get(name, [''])))}\n"
        for name in signed
    )
    return "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/~"),
            canonical_query,
            canonical_headers,
            ";".join(signed),
            payload_hash,
        ]
    )


def v3_string_to_sign(canonical: str) -> str:
    return f"ACS3-HMAC-SHA256\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def v3_signature(string_to_sign: str, secret: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def v3_verify(
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    body_sha256: str,
    secret: str,
) -> bool:
    """What iamconsole checks of a V3 request (headers keyed by lower-case name)."""
    algorithm, _, rest = headers["authorization"].partition(" ")
    parts = dict(item.strip().split("=", 1) for item in rest.split(","))
    signed = parts["SignedHeaders"].split(";")
    if headers.get("x-acs-content-sha256") != body_sha256:
        return False
    canonical = v3_canonical(
        method,
        path,
        parse_qsl(query_string, keep_blank_values=True),
        {k: [v] for k, v in headers.items()},
        signed,
        body_sha256,
    )
    expected = v3_signature(v3_string_to_sign(canonical), secret)
    return algorithm == "ACS3-HMAC-SHA256" and hmac.compare_digest(expected, parts["Signature"])


def v1_verify(method: str, query_string: str, form_body: str, secret: str) -> bool:
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    params.update(parse_qsl(form_body, keep_blank_values=True))
    expected = v1_signature(v1_string_to_sign(method, params), secret)
    return hmac.compare_digest(expected, params.get("Signature", ""))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Signed:
    """A request as a caller's SDK sends it: method, path, raw query, headers, body."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes = b""


def v3_request(
    action: str,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    *,
    host: str = "svc.example:8080",
    path: str = "/",
    extra: dict[str, str] | None = None,
) -> Signed:
    """As the tea client's call_api sends it (formData body, every header signed)."""
    body = urlencode(form or {}).encode()
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": "2026-12-01",
        "x-acs-date": now(),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "accept": "application/json",
        "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11 Core/0.4 TeaDSL/2",
    }
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    pairs = sorted((query or {}).items())
    names = sorted(headers)
    canonical = v3_canonical(
        "POST",
        path,
        pairs,
        {k: [v] for k, v in headers.items()},
        names,
        hashlib.sha256(body).hexdigest(),
    )
    signature = v3_signature(v3_string_to_sign(canonical), CALLER_SECRET)
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={CALLER_KEY},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    headers.update(extra or {})  # unsigned additions (cookies, proxies…)
    return Signed("POST", path, urlencode(pairs), headers, body)


def v1_request(
    action: str,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    *,
    host: str = "svc.example:8080",
) -> Signed:
    """As aliyun-python-sdk-core's CommonRequest sends it (everything signed in the query)."""
    params = {
        **(query or {}),
        "Action": action,
        "Version": "2026-12-01",
        "Format": "JSON",
        "Timestamp": now(),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "AccessKeyId": CALLER_KEY,
    }
    params["Signature"] = v1_signature(
        v1_string_to_sign("POST", {**params, **(form or {})}), CALLER_SECRET
    )
    headers = {"host": host, "x-acs-action": action, "user-agent": "aliyun-sdk-python/2.16"}
    body = b""
    if form is not None:
        body = urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    return Signed("POST", "/", urlencode(params), headers, body)


# --- A stand-in iamconsole on 127.0.0.1 ---------------------------------------------------

ALLOW = {
    "RequestId": "REQ-1",
    "Version": "2026-12-01",
    "Authenticated": True,
    "Principal": {
        "Type": "RAMUser",
        "Arn": f"acs:ram::{OWNER}:user/alice",
        "AccountId": OWNER,
        "AccessKeyId": CALLER_KEY,
        "MfaPresent": False,
        "UserName": "alice",
    },
    "Decision": "Allow",
    "Allowed": True,
    "DecidingStatement": None,
    "Error": None,
}


def deny(code: str = "NoPermission", status: int = 403, message: str = "denied") -> dict:
    return {
        **ALLOW,
        "Decision": "ImplicitDeny",
        "Allowed": False,
        "Error": {
            "HttpStatus": status,
            "RequestId": "REQ-2",
            "HostId": "iamconsole",
            "Code": code,
            "Message": message,
            "Recommend": "",
        },
    }


@dataclass
class StandIn:
    """Answers every question with `status` and `body` (a dict is sent as JSON); records each
    question and whether the service's own signature on it verified."""

    url: str = ""
    status: int = 200
    body: Any = field(default_factory=lambda: dict(ALLOW))
    questions: list[dict[str, Any]] = field(default_factory=list)
    service_signature_ok: list[bool] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], Any] | None = None  # computes the body from a question


@pytest.fixture
def iam() -> Iterator[StandIn]:
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            stand_in.service_signature_ok.append(
                v3_verify(
                    "POST",
                    self.path.partition("?")[0],
                    "",
                    headers,
                    hashlib.sha256(body).hexdigest(),
                    SERVICE_SECRET,
                )
                and f"Credential={SERVICE_KEY}," in headers.get("authorization", "")
            )
            question = json.loads(body)
            stand_in.questions.append(question)
            answer = stand_in.answer(question) if stand_in.answer else stand_in.body
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(stand_in.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield stand_in
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nobody listens on: connecting is refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


# --- Driving the middlewares --------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def wsgi_environ(request: Signed, *, remote: str = "203.0.113.7", scheme: str = "http") -> dict:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": request.query_string,
        "SERVER_NAME": "svc.example",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote,
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if request.body:
        environ["CONTENT_LENGTH"] = str(len(request.body))
    for name, value in request.headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def call_wsgi(app: Any, environ: dict) -> Reply:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    body = b"".join(app(environ, start_response))
    code, _, phrase = seen["status"].partition(" ")
    assert phrase, "a WSGI status line has a reason phrase"
    return Reply(int(code), seen["headers"], body)


def asgi_scope(request: Signed, *, remote: str = "203.0.113.7", scheme: str = "http") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": scheme,
        "path": request.path,
        "raw_path": request.path.encode(),
        "root_path": "",
        "query_string": request.query_string.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in request.headers.items()],
        "client": (remote, 50000),
        "server": ("127.0.0.1", 8080),
    }


def call_asgi(
    app: Any, scope: dict, chunks: list[bytes] | None = None, *, disconnect: bool = False
) -> Reply | None:
    """Run one request through an ASGI app; None when it sent nothing."""
    messages: list[dict[str, Any]] = []
    if disconnect:
        incoming = [{"type": "http.disconnect"}]
    else:
        parts = chunks if chunks is not None else [b""]
        incoming = [
            {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
            for i, part in enumerate(parts)
        ]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # a real server waits for the disconnect
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    if not messages:
        return None
    start = messages[0]
    assert start["type"] == "http.response.start"
    body = b"".join(m.get("body", b"") for m in messages[1:])
    headers = {k.decode(): v.decode() for k, v in start.get("headers", [])}
    return Reply(start["status"], headers, body)


def asgi_echo() -> Any:
    """An ASGI app answering with the principal's ARN and the body it read."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        principal = scope["iamconsole.principal"]
        payload = json.dumps(
            {"Arn": principal.arn if principal else None, "Body": body.decode()}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


def wsgi_echo(environ: dict, start_response: Any) -> list[bytes]:
    principal = environ["iamconsole.principal"]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    payload = json.dumps(
        {"Arn": principal.arn if principal else None, "Body": body.decode()}
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [payload]
