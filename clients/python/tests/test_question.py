"""The question built from a received request: what iamconsole needs to verify the caller's
signature (V1 in the query, V3 in the headers, a form body), and nothing it doesn't."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from iamconsole_resource import Authorizer, IamconsoleAsgi, IamconsoleWsgi, Routes
from support import (
    ALLOW,
    CALLER_SECRET,
    OWNER,
    asgi_echo,
    asgi_scope,
    call_asgi,
    call_wsgi,
    deny,
    v1_request,
    v1_verify,
    v3_request,
    v3_verify,
    wsgi_echo,
    wsgi_environ,
)

ROUTES = Routes()
ROUTES.add(
    "PutObject",
    "oss:PutObject",
    lambda r: f"acs:oss:*:{OWNER}:{r.params['Bucket']}/{r.params['Key']}",
)
ROUTES.add(
    "CreateBucket",
    "oss:CreateBucket",
    lambda r: f"acs:oss:*:${{CallerAccountId}}:{r.params['Bucket']}",
)


def verifying(question: dict[str, Any]) -> dict[str, Any]:
    """Answer as iamconsole would: allowed when the forwarded parts verify the caller."""
    signed = question["Request"]
    if "authorization" in signed["Headers"]:
        ok = v3_verify(
            signed["Method"],
            signed["Path"],
            signed["Query"],
            signed["Headers"],
            signed["BodySha256"],
            CALLER_SECRET,
        )
    else:
        ok = v1_verify(signed["Method"], signed["Query"], signed.get("FormBody", ""), CALLER_SECRET)
    return ALLOW if ok else deny("SignatureDoesNotMatch", 400)


def run(kind: str, iam: Any, request: Any, **kwargs: Any) -> Any:
    authorizer = Authorizer(iam.url, "LTAIservice", "service-secret", timeout=5)
    if kind == "wsgi":
        return call_wsgi(
            IamconsoleWsgi(wsgi_echo, authorizer, ROUTES), wsgi_environ(request, **kwargs)
        )
    app = IamconsoleAsgi(asgi_echo(), authorizer, ROUTES)
    return call_asgi(app, asgi_scope(request, **kwargs), [request.body])


BOTH = pytest.mark.parametrize("kind", ["wsgi", "asgi"])


@BOTH
def test_a_v3_header_signed_request(kind, iam):
    iam.answer = verifying
    request = v3_request(
        "PutObject",
        {"Bucket": "b1", "Key": "a b/ç*~"},
        {"Content": "hello world"},
        extra={"cookie": "session=secret", "x-forwarded-for": "10.0.0.1"},
    )
    reply = run(kind, iam, request, scheme="https")
    assert reply.status == 200, reply.body
    assert reply.json() == {"Arn": f"acs:ram::{OWNER}:user/alice", "Body": "Content=hello+world"}
    assert iam.service_signature_ok == [True]
    question = iam.questions[0]
    assert question["Action"] == "oss:PutObject"
    assert question["Resources"] == [f"acs:oss:*:{OWNER}:b1/a b/ç*~"]
    assert question["Context"] == {"SecureTransport": True, "SourceIp": "203.0.113.7"}
    signed = question["Request"]
    assert signed["Method"] == "POST" and signed["Path"] == "/"
    assert signed["Query"] == request.query_string  # unchanged, as received
    assert signed["BodySha256"] == hashlib.sha256(request.body).hexdigest()
    assert "FormBody" not in signed  # V3 covers the body by its hash
    # The signed headers and authorization go; cookies and proxies' additions stay.
    assert set(signed["Headers"]) == set(request.headers) - {"cookie", "x-forwarded-for"}
    assert signed["Headers"]["host"] == "svc.example:8080"


@BOTH
def test_a_v1_query_signed_request(kind, iam):
    iam.answer = verifying
    request = v1_request("PutObject", {"Bucket": "b1", "Key": "k 1"})
    reply = run(kind, iam, request)
    assert reply.status == 200, reply.body
    signed = iam.questions[0]["Request"]
    assert signed["Query"] == request.query_string
    assert signed["BodySha256"] == hashlib.sha256(b"").hexdigest()
    assert "FormBody" not in signed
    assert set(signed["Headers"]) == {"host", "x-acs-action", "user-agent"}
    assert iam.questions[0]["Context"] == {"SecureTransport": False, "SourceIp": "203.0.113.7"}


@BOTH
def test_a_v1_request_with_a_form_body(kind, iam):
    iam.answer = verifying
    request = v1_request("PutObject", {"Bucket": "b1"}, {"Key": "k1", "Content": "x&y=z"})
    reply = run(kind, iam, request)
    assert reply.status == 200, reply.body
    # The route read Key from the body; the handler still gets the body.
    assert iam.questions[0]["Resources"] == [f"acs:oss:*:{OWNER}:b1/k1"]
    assert iam.questions[0]["Request"]["FormBody"] == request.body.decode()
    assert reply.json()["Body"] == request.body.decode()


@BOTH
def test_a_tampered_request_is_refused_with_iamconsoles_error(kind, iam):
    iam.answer = verifying
    request = v3_request("PutObject", {"Bucket": "b1", "Key": "k1"}, {"Content": "hi"})
    request.body = b"Content=bye"
    request.headers["x-acs-content-sha256"] = hashlib.sha256(b"Content=bye").hexdigest()
    reply = run(kind, iam, request)
    assert reply.status == 400
    assert reply.json()["Code"] == "SignatureDoesNotMatch"


@BOTH
def test_the_caller_account_placeholder_goes_to_iamconsole_unchanged(kind, iam):
    reply = run(kind, iam, v3_request("CreateBucket", {"Bucket": "new"}))
    assert reply.status == 200
    assert iam.questions[0]["Resources"] == ["acs:oss:*:${CallerAccountId}:new"]


def test_wsgi_and_asgi_ask_the_same_question(iam):
    request = v3_request("PutObject", {"Bucket": "b1", "Key": "k1"}, {"Content": "c"})
    run("wsgi", iam, request)
    run("asgi", iam, request)
    assert iam.questions[0] == iam.questions[1]


@BOTH
def test_a_utf8_path_and_a_mount_point(kind, iam):
    iam.answer = verifying
    request = v3_request("PutObject", {"Bucket": "b1", "Key": "k"}, path="/api/é x")
    authorizer = Authorizer(iam.url, "LTAIservice", "service-secret", timeout=5)
    if kind == "wsgi":
        environ = wsgi_environ(request)
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = "/api", "/é x".encode().decode("latin-1")
        reply = call_wsgi(IamconsoleWsgi(wsgi_echo, authorizer, ROUTES), environ)
    else:
        scope = asgi_scope(request)
        scope["root_path"], scope["path"] = "/api", "/é x"
        reply = call_asgi(IamconsoleAsgi(asgi_echo(), authorizer, ROUTES), scope, [request.body])
    assert reply.status == 200, reply.body
    assert iam.questions[0]["Request"]["Path"] == "/api/é x"
