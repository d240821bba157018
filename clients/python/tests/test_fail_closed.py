"""Fails closed: whenever iamconsole gives no usable answer the caller gets 503
ServiceUnavailable and the handler never runs. Real sockets on 127.0.0.1."""

from __future__ import annotations

import time
from typing import Any

import pytest
from iamconsole_resource import Authorizer, IamconsoleWsgi, Principal, Routes
from support import (
    ALLOW,
    OWNER,
    SERVICE_KEY,
    SERVICE_SECRET,
    call_wsgi,
    deny,
    v3_request,
    wsgi_environ,
)

ROUTES = Routes()
ROUTES.add("GetObject", "oss:GetObject", lambda r: f"acs:oss:*:{OWNER}:{r.params['Bucket']}")


class Recorder:
    def __init__(self) -> None:
        self.principals: list[Any] = []

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        self.principals.append(environ["iamconsole.principal"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def ask(endpoint: str, timeout: float = 2.0) -> tuple[Any, Recorder]:
    handler = Recorder()
    app = IamconsoleWsgi(
        handler, Authorizer(endpoint, SERVICE_KEY, SERVICE_SECRET, timeout=timeout), ROUTES
    )
    reply = call_wsgi(app, wsgi_environ(v3_request("GetObject", {"Bucket": "b1"})))
    return reply, handler


def assert_unavailable(reply: Any, handler: Recorder) -> None:
    assert reply.status == 503
    body = reply.json()
    assert body["Code"] == "ServiceUnavailable"
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert reply.headers["Content-Type"].startswith("application/json")
    assert handler.principals == []


def test_a_server_that_never_answers_times_out(silent_port):
    started = time.monotonic()
    reply, handler = ask(f"http://127.0.0.1:{silent_port}", timeout=0.5)
    assert_unavailable(reply, handler)
    assert time.monotonic() - started < 5


def test_a_refused_connection(closed_port):
    assert_unavailable(*ask(f"http://127.0.0.1:{closed_port}"))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"<html>Internal Server Error</html>"),
        (500, {"Code": "InternalError", "Message": "x", "RequestId": "r"}),
        (200, b"not json"),
        (200, b"[1, 2]"),
        (200, {"RequestId": "r"}),  # no Allowed
        (403, {"Code": "InvalidAccessKeyId.NotFound", "Message": "the service's key"}),
        (502, b""),
        (200, {**ALLOW, "Principal": None}),  # allowed, yet nobody
        (200, {**deny(), "Error": "denied"}),
        (200, {**deny(status=200)}),
        (200, {**deny(status="403")}),
        (200, b"[" * 100000),
    ],
    ids=[
        "500-html",
        "500-json",
        "200-text",
        "200-list",
        "200-no-allowed",
        "service-key-refused",
        "502-empty",
        "allowed-without-principal",
        "error-not-an-object",
        "error-status-200",
        "error-status-text",
        "deep-json",
    ],
)
def test_an_answer_that_is_not_a_decision(iam, status, body):
    iam.status, iam.body = status, body
    assert_unavailable(*ask(iam.url))


def test_an_error_answer_is_passed_through(iam):
    iam.body = deny("SignatureNonceUsed", 400, "Specified signature nonce was used already.")
    reply, handler = ask(iam.url)
    assert reply.status == 400
    assert reply.json() == {
        "RequestId": "REQ-2",
        "HostId": "iamconsole",
        "Code": "SignatureNonceUsed",
        "Message": "Specified signature nonce was used already.",
        "Recommend": "",
    }
    assert handler.principals == []


def test_a_denial_is_403_no_permission(iam):
    iam.body = deny("NoPermission", 403, "You are not authorized to do this action.")
    reply, handler = ask(iam.url)
    assert (reply.status, reply.json()["Code"]) == (403, "NoPermission")
    assert handler.principals == []


def test_allowed_the_handler_gets_the_principal(iam):
    reply, handler = ask(iam.url)
    assert (reply.status, reply.body) == (200, b"ok")
    assert handler.principals == [
        Principal(
            type="RAMUser",
            arn=f"acs:ram::{OWNER}:user/alice",
            account_id=OWNER,
            access_key_id="LTAIcaller",
            mfa_present=False,
            user_name="alice",
        )
    ]
    assert iam.service_signature_ok == [True]


def test_pooled_connections_are_shared_between_threads(iam):
    from concurrent.futures import ThreadPoolExecutor

    handler = Recorder()
    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET, timeout=5, pool_size=4)
    app = IamconsoleWsgi(handler, authorizer, ROUTES)

    def one(_: int) -> int:
        return call_wsgi(app, wsgi_environ(v3_request("GetObject", {"Bucket": "b1"}))).status

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(40))) == [200] * 40
    assert len(handler.principals) == 40
    assert all(iam.service_signature_ok) and len(iam.service_signature_ok) == 40
    nonces = {q["Request"]["Headers"]["x-acs-signature-nonce"] for q in iam.questions}
    assert len(nonces) == 40


def test_iamconsole_recovers_after_an_outage(iam, closed_port):
    """Nothing is cached: the first answer after the outage is used."""
    reply, _ = ask(f"http://127.0.0.1:{closed_port}")
    assert reply.status == 503
    reply, handler = ask(iam.url)
    assert reply.status == 200 and len(handler.principals) == 1


def test_an_endpoint_mounted_under_a_prefix_is_signed_with_its_path(iam):
    reply, _ = ask(iam.url + "/iam/")
    assert reply.status == 200
    assert iam.service_signature_ok == [True]


def test_missing_settings_are_named(monkeypatch):
    for name in ("IAM_ENDPOINT", "IAM_SERVICE_ACCESS_KEY_ID", "IAM_SERVICE_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="IAM_ENDPOINT"):
        Authorizer()
    monkeypatch.setenv("IAM_ENDPOINT", "http://127.0.0.1:1")
    with pytest.raises(ValueError, match="IAM_SERVICE_ACCESS_KEY_ID"):
        Authorizer()
    monkeypatch.setenv("IAM_SERVICE_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("IAM_SERVICE_ACCESS_KEY_SECRET", "secret")
    assert Authorizer().endpoint == "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="http"):
        Authorizer("127.0.0.1:8000", "id", "secret")


def test_plain_http_is_refused_off_loopback():
    with pytest.raises(ValueError, match="https"):
        Authorizer("http://iam.example.com", SERVICE_KEY, SERVICE_SECRET)
    Authorizer("http://iam.example.com", SERVICE_KEY, SERVICE_SECRET, allow_plain_http=True)
    Authorizer("https://iam.example.com", SERVICE_KEY, SERVICE_SECRET)
    for loopback in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        Authorizer(loopback, SERVICE_KEY, SERVICE_SECRET)
