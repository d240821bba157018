"""Signature V1 and V3 against the reference's test vectors (produced by the SDKs' own code)."""

from __future__ import annotations

import pytest

from openapi.signature import (
    EMPTY_SHA256,
    v1_signature,
    v1_string_to_sign,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

V1_VECTORS = [
    (  # (a) official ECS example
        "GET",
        {
            "TimeStamp": "2016-02-23T12:46:24Z",
            "Format": "XML",
            "AccessKeyId": "testid",
            "Action": "DescribeRegions",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "Version": "2014-05-26",
            "SignatureVersion": "1.0",
        },
        "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
        None,
    ),
    (  # (b) official RAM example
        "GET",
        {
            "UserName": "test",
            "SignatureVersion": "1.0",
            "Format": "JSON",
            "Timestamp": "2015-08-18T03:15:45Z",
            "AccessKeyId": "testid",
            "SignatureMethod": "HMAC-SHA1",
            "Version": "2015-05-01",
            "Action": "CreateUser",
            "SignatureNonce": "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2",
        },
        "kRA2cnpJVacIhDMzXnoNZG9tDCI=",
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26Format%3DJSON%26SignatureMethod"
        "%3DHMAC-SHA1%26SignatureNonce%3D6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2%26SignatureVersion"
        "%3D1.0%26Timestamp%3D2015-08-18T03%253A15%253A45Z%26UserName%3Dtest%26Version%3D"
        "2015-05-01",
    ),
    (  # (c) official IMS example
        "GET",
        {
            "Version": "2019-08-15",
            "UserPrincipalName": "test@example.onaliyun.com",
            "DisplayName": "test",
            "Timestamp": "2021-01-15T06:02:28Z",
            "SignatureNonce": "3f6b4e80-56f7-11eb-a256-a9f756ea7e85",
            "Format": "JSON",
            "AccessKeyId": "testid",
            "Action": "CreateUser",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
        },
        "02heLegtw4+BFamznl1Ltj+vJ4A=",
        None,
    ),
    (  # (d) POST with a space in a value
        "POST",
        {
            "AccessKeyId": "testid",
            "Action": "CreateUser",
            "DisplayName": "Alice Z",
            "Format": "json",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "SignatureVersion": "1.0",
            "Timestamp": "2024-01-01T12:00:00Z",
            "UserName": "alice",
            "Version": "2015-05-01",
        },
        "lGePhrtewmqJn0kciDD6L3mil0Y=",
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26DisplayName%3DAlice%2520Z%26"
        "Format%3Djson%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-"
        "4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T12%253A00%253A00Z%26"
        "UserName%3Dalice%26Version%3D2015-05-01",
    ),
    (  # (e) AssumeRole as the credentials provider sends it, with STS source credentials
        "GET",
        {
            "AccessKeyId": "STS.testid",
            "Action": "AssumeRole",
            "DurationSeconds": "3600",
            "Format": "JSON",
            "RoleArn": "acs:ram::1234567890123456:role/admin",
            "RoleSessionName": "alice",
            "SecurityToken": "tok/+=",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "nonce-1",
            "SignatureVersion": "1.0",
            "Timestamp": "2024-01-01T12:00:00Z",
            "Version": "2015-04-01",
        },
        "gyK4UZ8tSmyQTsSWEWG6M8zzH1w=",
        None,
    ),
]


@pytest.mark.parametrize(("method", "params", "signature", "string_to_sign"), V1_VECTORS)
def test_v1_vectors(method, params, signature, string_to_sign):
    computed = v1_string_to_sign(method, {**params, "Signature": "ignored"})
    if string_to_sign:
        assert computed == string_to_sign
    assert v1_signature(computed, "testsecret") == signature


def test_v1_form_style_for_the_credentials_provider():
    params = dict(V1_VECTORS[4][1], Policy='{"Version": "1"}')
    strict = v1_string_to_sign("GET", params)
    form = v1_string_to_sign("GET", params, form_style=True)
    assert v1_signature(strict, "testsecret") == "iIs67RKdOhJfbeg+FAF70UqTw3M="
    assert v1_signature(form, "testsecret") == "ZAkd8PpnHYXu1nqQnikaLuctio0="


def test_v1_signature_changes_with_method_secret_and_any_value():
    method, params, signature, _ = V1_VECTORS[1]
    assert v1_signature(v1_string_to_sign("POST", params), "testsecret") != signature
    assert v1_signature(v1_string_to_sign(method, params), "testsecreT") != signature
    changed = dict(params, UserName="tesT")
    assert v1_signature(v1_string_to_sign(method, changed), "testsecret") != signature


V3_HEADERS = {
    "host": ["ram.aliyuncs.com"],
    "x-acs-version": ["2015-05-01"],
    "x-acs-action": ["CreateUser"],
    "user-agent": ["AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2"],
    "x-acs-date": ["2024-01-01T12:00:00Z"],
    "x-acs-signature-nonce": ["3156853299f313e23d1673dc12e1703d"],
    "accept": ["application/json"],
    "x-acs-content-sha256": [EMPTY_SHA256],
}
V3_SIGNED = [
    "accept",
    "host",
    "user-agent",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
]
V3_QUERY = [("UserName", "alice"), ("DisplayName", "Alice Z")]


def test_v3_vector():
    canonical = v3_canonical_request("POST", "/", V3_QUERY, V3_HEADERS, V3_SIGNED, EMPTY_SHA256)
    assert canonical.split("\n")[:3] == ["POST", "/", "DisplayName=Alice%20Z&UserName=alice"]
    string_to_sign = v3_string_to_sign(canonical)
    assert string_to_sign.endswith(
        "1b0664d65b2218be9c73ae758e6485b4b6d5968e4140f31bd93a3f0b8dc03df1"
    )
    assert v3_signature(string_to_sign, "testsecret") == (
        "272a68fe399c22b2e5408e5760c8d9947b4a2bb0343fd5a0d8e633e2dfa93e1d"
    )


def test_v3_vector_with_security_token():
    headers = dict(
        V3_HEADERS, **{"x-acs-accesskey-id": ["STS.testid"], "x-acs-security-token": ["tok/+="]}
    )
    signed = sorted([*V3_SIGNED, "x-acs-accesskey-id", "x-acs-security-token"])
    canonical = v3_canonical_request("POST", "/", V3_QUERY, headers, signed, EMPTY_SHA256)
    assert v3_signature(v3_string_to_sign(canonical), "testsecret") == (
        "0a27a2b051266b30881058daec85551938089c427ab7dba2628eac1165cd1168"
    )


def test_v3_signature_covers_headers_query_and_method():
    base = v3_signature(
        v3_string_to_sign(
            v3_canonical_request("POST", "/", V3_QUERY, V3_HEADERS, V3_SIGNED, EMPTY_SHA256)
        ),
        "testsecret",
    )
    variants = [
        ("GET", V3_QUERY, V3_HEADERS),
        ("POST", [("UserName", "alicE"), ("DisplayName", "Alice Z")], V3_HEADERS),
        ("POST", V3_QUERY, dict(V3_HEADERS, **{"x-acs-action": ["DeleteUser"]})),
        ("POST", V3_QUERY, dict(V3_HEADERS, host=["evil.example"])),
    ]
    for method, query, headers in variants:
        canonical = v3_canonical_request(method, "/", query, headers, V3_SIGNED, EMPTY_SHA256)
        assert v3_signature(v3_string_to_sign(canonical), "testsecret") != base
