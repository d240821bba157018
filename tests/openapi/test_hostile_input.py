"""Hostile parameter values get a 4xx with an Alibaba code, never a 500, and change nothing.

PostgreSQL refuses NUL in text and Python refuses integers of more than 4,300 digits; SQLite
hides the first, so these tests matter most on PostgreSQL (CI runs both).
"""

from __future__ import annotations

import json

import pytest

from audit.chain import normalized_details
from openapi.errors import ApiError
from openapi.params import Params

pytestmark = pytest.mark.django_db

TRUST = {
    "Version": "1",
    "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1:root"]}}
    ],
}
IDENTITY = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"}],
}


@pytest.fixture
def root_api(tenant, api_for):
    return api_for(tenant.root)


@pytest.mark.parametrize(
    ("action", "version", "name"),
    [
        ("DeleteUser", "2015-05-01", "UserName"),
        ("GetUser", "2015-05-01", "UserName"),
        ("ListPoliciesForRole", "2015-05-01", "RoleName"),
        ("GetGroup", "2015-05-01", "GroupName"),
        ("GetOIDCProvider", "2019-08-15", "OIDCProviderName"),
    ],
)
@pytest.mark.parametrize("value", ["ab\x00cd", "ab\x1bcd", "\x7f"])
def test_control_characters_in_a_parameter_are_refused(root_api, action, version, name, value):
    response = root_api.v1(action, version, **{name: value})
    assert response.status_code == 400, response.content
    assert response.json()["Code"] == f"InvalidParameter.{name}"


def test_nul_in_the_nonce_is_refused_before_it_reaches_the_store(root_api):
    response = root_api.v1("ListUsers", extra={"SignatureNonce": "n\x00" + "1" * 8})
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidParameter.SignatureNonce"


def test_tabs_and_newlines_stay_allowed(root_api):
    document = json.dumps(IDENTITY, indent="\t") + "\r\n"
    response = root_api.v1("CreatePolicy", PolicyName="pretty", PolicyDocument=document)
    assert response.status_code == 200, response.content


def huge_sid(document: dict) -> str:
    statement = json.dumps(document["Statement"][0])[1:-1]
    return '{"Version":"1","Statement":[{"Sid":' + "9" * 5000 + "," + statement + "}]}"


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("CreatePolicy", {"PolicyName": "big", "PolicyDocument": huge_sid(IDENTITY)}),
        ("CreateRole", {"RoleName": "big", "AssumeRolePolicyDocument": huge_sid(TRUST)}),
    ],
)
def test_a_5000_digit_number_in_a_document_is_a_malformed_document(root_api, action, params):
    response = root_api.v1(action, **params)
    assert response.status_code == 400, response.content
    assert response.json()["Code"] == "MalformedPolicyDocument"


@pytest.mark.parametrize(
    "document",
    [
        {**IDENTITY, "Statement": [{**IDENTITY["Statement"][0], "Sid": "a\x00b"}]},
        {**IDENTITY, "Statement": [{**IDENTITY["Statement"][0], "Sid": "\ud800"}]},
    ],
)
def test_nul_and_lone_surrogates_inside_a_document_are_malformed(root_api, document):
    response = root_api.v1("CreatePolicy", PolicyName="odd", PolicyDocument=json.dumps(document))
    assert response.status_code == 400, response.content
    assert response.json()["Code"] == "MalformedPolicyDocument"


@pytest.mark.parametrize(
    "value",
    [
        "[" * 100_000 + "]" * 100_000,
        "[" * 20 + "]" * 20,
        "[" + "9" * 5000 + "]",
        '[{"Key": "\\ud800"}]',
        '["a\\u0000b"]',
    ],
)
def test_json_lists_refuse_depth_huge_numbers_and_unstorable_text(value):
    with pytest.raises(ApiError) as caught:
        Params({"Tag": value}).json_list("Tag")
    assert caught.value.code == "InvalidParameter.Tag"


def test_a_plain_json_list_is_fine():
    assert Params({"Tag": '[{"Key": "k", "Value": "v"}]'}).json_list("Tag") == [
        {"Key": "k", "Value": "v"}
    ]


def test_audit_details_keep_a_literal_backslash_u0000_and_drop_nul():
    details = {"text": "a\\u0000b", "nul": "a\x00b", "list": ["\x00"], "k\x00": 1}
    assert normalized_details(details) == {"text": "a\\u0000b", "nul": "ab", "list": [""], "k": 1}


def test_a_description_that_looks_like_an_escaped_nul_is_kept(root_api):
    root_api.v1("CreatePolicy", PolicyName="p1", PolicyDocument=json.dumps(IDENTITY))
    response = root_api.v1("UpdatePolicyDescription", PolicyName="p1", NewDescription="\\u0000")
    assert response.status_code == 200, response.content
    assert response.json()["Policy"]["Description"] == "\\u0000"
