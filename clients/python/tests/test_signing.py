"""The service's own V3 signature: Alibaba's published vector, and the algorithm iamconsole
verifies (openapi/signature.py, re-derived in conftest)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from iamconsole_resource import signing
from support import v3_canonical, v3_signature, v3_string_to_sign, v3_verify

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
VECTOR_HEADERS = {
    "host": "ram.aliyuncs.com",
    "x-acs-version": "2015-05-01",
    "x-acs-action": "CreateUser",
    "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
    "x-acs-date": "2024-01-01T12:00:00Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "accept": "application/json",
    "x-acs-content-sha256": EMPTY,
}
VECTOR_QUERY = [("UserName", "alice"), ("DisplayName", "Alice Z")]


def test_the_v3_vector():
    names = sorted(VECTOR_HEADERS)
    canonical = signing.canonical_request("POST", "/", VECTOR_QUERY, VECTOR_HEADERS, names, EMPTY)
    assert canonical.split("\n")[:3] == ["POST", "/", "DisplayName=Alice%20Z&UserName=alice"]
    assert (
        hashlib.sha256(canonical.encode()).hexdigest()
        == "1b0664d65b2218be9c73ae758e6485b4b6d5968e4140f31bd93a3f0b8dc03df1"
    )
    header = signing.authorization(
        method="POST",
        path="/",
        query=VECTOR_QUERY,
        headers=VECTOR_HEADERS,
        payload_hash=EMPTY,
        access_key_id="testid",
        access_key_secret="testsecret",
    )
    assert header == (
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host;user-agent;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=272a68fe399c22b2e5408e5760c8d9947b4a2bb0343fd5a0d8e633e2dfa93e1d"
    )


def test_the_v3_vector_with_sts_credentials():
    headers = {
        **VECTOR_HEADERS,
        "x-acs-accesskey-id": "STS.testid",
        "x-acs-security-token": "tok/+=",
    }
    header = signing.authorization(
        method="POST",
        path="/",
        query=VECTOR_QUERY,
        headers=headers,
        payload_hash=EMPTY,
        access_key_id="STS.testid",
        access_key_secret="testsecret",
    )
    assert header.endswith(
        "Signature=0a27a2b051266b30881058daec85551938089c427ab7dba2628eac1165cd1168"
    )


def test_a_call_verifies_as_iamconsole_checks_it():
    body = b'{"Action": "oss:GetObject", "Resources": ["acs:oss:*:1:b/\xc3\xa9"]}'
    headers = signing.sign(
        method="POST",
        host="iam.example.com:8443",
        path="/resource-services/2026-12-01/authorize",
        action="Authorize",
        version="2026-12-01",
        body=body,
        content_type="application/json",
        access_key_id="LTAIsvc",
        access_key_secret="s3cret",
    )
    assert headers["x-acs-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["x-acs-date"])
    assert headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAIsvc,")
    digest = hashlib.sha256(body).hexdigest()
    path = "/resource-services/2026-12-01/authorize"
    assert v3_verify("POST", path, "", headers, digest, "s3cret")
    assert not v3_verify("POST", path, "", headers, digest, "other")
    assert not v3_verify("POST", path, "", headers, hashlib.sha256(b"x").hexdigest(), "s3cret")


def test_every_header_is_signed_with_the_given_date_and_nonce():
    moment = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    headers = signing.sign(
        method="post",
        host="h",
        path="/p q",
        action="Authorize",
        version="2026-12-01",
        body=b"",
        content_type="application/json",
        access_key_id="id",
        access_key_secret="secret",
        date=moment,
        nonce="n-1",
    )
    assert headers["x-acs-date"] == "2026-12-01T08:30:00Z"
    assert headers["x-acs-signature-nonce"] == "n-1"
    signed = sorted(k for k in headers if k != "authorization")
    assert f"SignedHeaders={';'.join(signed)}," in headers["authorization"]
    canonical = v3_canonical(
        "POST", "/p q", [], {k: [v] for k, v in headers.items()}, signed, EMPTY
    )
    assert "\n/p%20q\n" in canonical
    expected = v3_signature(v3_string_to_sign(canonical), "secret")
    assert headers["authorization"].endswith(f"Signature={expected}")


def test_nonces_are_fresh():
    def nonce() -> str:
        return signing.sign(
            method="POST",
            host="h",
            path="/",
            action="A",
            version="v",
            body=b"",
            content_type="application/json",
            access_key_id="id",
            access_key_secret="s",
        )["x-acs-signature-nonce"]

    assert len({nonce() for _ in range(50)}) == 50
