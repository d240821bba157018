"""The signed API's wire behaviour: encodings, replay, clocks, tampering, errors as JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts.models import AccessKey, User
from openapi.signature import v1_signature, v1_string_to_sign
from singleuse.services import StoreUnavailable
from tests.openapi.conftest import Api, now

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(tenant, api_for):
    robot = tenant.make_user("robot", "AliyunRAMFullAccess", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    return api_for(robot)


def v1_query(api: Api, method: str = "POST", **params: str) -> dict[str, str]:
    query = {
        "Action": "ListUsers",
        "Version": "2015-05-01",
        "Format": "JSON",
        "AccessKeyId": api.key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "n-" + now(),
        "Timestamp": now(),
        **params,
    }
    query["Signature"] = v1_signature(v1_string_to_sign(method, query), api.secret)
    return query


def test_get_post_and_form_body_are_all_accepted(api):
    assert api.v1("ListUsers", method="GET").status_code == 200
    assert api.v1("ListUsers").status_code == 200
    body = v1_query(api, Action="GetUser", UserName="robot")
    response = Client().post(
        "/", data=urlencode(body), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and response.json()["User"]["UserName"] == "robot"


def test_credentials_provider_plus_encoding_is_accepted(api):
    query = {
        "Action": "CreateUser",
        "Version": "2015-05-01",
        "Format": "JSON",
        "AccessKeyId": api.key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "plus-1",
        "Timestamp": now(),
        "UserName": "spaced",
        "DisplayName": "With Spaces",
    }
    query["Signature"] = v1_signature(v1_string_to_sign("GET", query, form_style=True), api.secret)
    response = Client().get("/?" + urlencode(query))
    assert response.status_code == 200, response.json()
    assert response.json()["User"]["DisplayName"] == "With Spaces"


def test_mismatch_message_carries_the_server_string_to_sign(api):
    query = v1_query(api)
    query["Signature"] = "AAAA" + query["Signature"][4:]
    response = Client().post("/?" + urlencode(query))
    body = response.json()
    assert response.status_code == 400 and body["Code"] == "SignatureDoesNotMatch"
    prefix = "Specified signature is not matched with our calculation. server string to sign is:"
    assert body["Message"] == prefix + v1_string_to_sign("POST", query)
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_replayed_request_is_refused(api):
    query = v1_query(api)
    assert Client().post("/?" + urlencode(query)).status_code == 200
    again = Client().post("/?" + urlencode(query))
    assert again.status_code == 400 and again.json()["Code"] == "SignatureNonceUsed"


def test_same_nonce_under_another_key_is_fine(api, tenant, api_for):
    other = tenant.make_user("robot2", "AliyunRAMFullAccess", console=False)
    User.objects.filter(pk=other.pk).update(programmatic_access=True)
    other_api = api_for(other)
    assert api.v1("ListUsers", extra={"SignatureNonce": "shared"}).status_code == 200
    assert other_api.v1("ListUsers", extra={"SignatureNonce": "shared"}).status_code == 200


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"Timestamp": "2026/01/01 10:00"}, "InvalidTimeStamp.Format"),
        (
            {
                "Timestamp": (datetime.now(UTC) - timedelta(minutes=16)).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
            },
            "InvalidTimeStamp.Expired",
        ),
        ({"SignatureMethod": "HMAC-MD5"}, "InvalidSignatureMethod"),
        ({"SignatureVersion": "2.0"}, "InvalidSignatureVersion"),
        ({"SignatureNonce": ""}, "MissingSignatureNonce"),
        ({"AccessKeyId": "LTAIdoesnotexist00000000"}, "InvalidAccessKeyId.NotFound"),
    ],
)
def test_bad_common_parameters(api, extra, code):
    response = api.v1("ListUsers", extra=extra)
    assert response.json()["Code"] == code
    assert response["Content-Type"].startswith("application/json")


def test_duplicate_parameter_is_refused(api):
    query = urlencode(v1_query(api)) + "&UserName=a&UserName=b"
    response = Client().post("/?" + query)
    assert response.status_code == 400 and response.json()["Code"] == "InvalidParameter.UserName"


def test_v3_needs_the_core_headers_signed_and_the_body_hash(api):
    response = api.v3("ListUsers")
    assert response.status_code == 200
    tampered = api.client.post(
        "/",
        data=b"x=1",
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=(
            f"ACS3-HMAC-SHA256 Credential={api.key_id},SignedHeaders=host;x-acs-action,Signature=00"
        ),
        HTTP_X_ACS_ACTION="ListUsers",
        HTTP_X_ACS_VERSION="2015-05-01",
    )
    assert tampered.json()["Code"] == "IncompleteSignature"
    assert "x-acs-content-sha256" in tampered.json()["Message"]


def test_unknown_action_and_plain_requests_get_json(api):
    for response in (
        Client().get("/?Action=Nope&Version=2015-05-01"),
        Client().post("/"),
        Client().post("/?Action=ListUsers"),
    ):
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["Code"] == "InvalidApi.NotFound"
    assert Client().get("/")["Location"] == "/console/"


def test_nonce_store_failure_fails_closed(api):
    with mock.patch("openapi.auth.use_once", side_effect=StoreUnavailable()):
        response = api.v1("ListUsers")
    assert response.status_code == 503 and response.json()["Code"] == "ServiceUnavailable"


def test_keys_stop_working_when_programmatic_access_is_removed(api, tenant):
    User.objects.filter(name="robot").update(programmatic_access=False)
    assert api.v1("ListUsers").json()["Code"] == "InvalidAccessKeyId.Inactive"


def test_last_used_is_recorded_and_coalesced(api):
    api.v1("ListUsers")
    key = AccessKey.objects.get(access_key_id=api.key_id)
    assert key.last_used_action == "ListUsers" and key.last_used_at is not None
    AccessKey.objects.filter(pk=key.pk).update(last_used_at=None)
    api.v1("GetUser", UserName="robot")
    assert AccessKey.objects.get(pk=key.pk).last_used_at is None  # within the interval


def test_pagination_with_markers(api, tenant):
    for i in range(5):
        tenant.make_user(f"u{i}", console=False)
    first = api.v3("ListUsers", MaxItems=2).json()
    assert first["IsTruncated"] is True and len(first["Users"]["User"]) == 2
    names = [u["UserName"] for u in first["Users"]["User"]]
    marker = first["Marker"]
    while marker:
        page = api.v3("ListUsers", MaxItems=2, Marker=marker).json()
        names += [u["UserName"] for u in page["Users"]["User"]]
        marker = page.get("Marker")
    assert names == sorted(names) and len(names) == 6
    assert api.v3("ListUsers", MaxItems=0).json()["Code"] == "InvalidParameter.MaxItems"
    assert api.v3("ListUsers", Marker="%%%").json()["Code"] == "InvalidParameter.Marker"


def test_booleans_and_policy_json(api):
    api.v3("CreateUser", UserName="web")
    api.v3(
        "CreateLoginProfile",
        UserName="web",
        Password="a long enough passphrase",
        PasswordResetRequired="True",
    )
    profile = api.v3("GetLoginProfile", UserName="web").json()["LoginProfile"]
    assert profile["PasswordResetRequired"] is True and profile["MFABindRequired"] is False
    bad = api.v3("CreateLoginProfile", UserName="robot", Password="x", MFABindRequired="maybe")
    assert bad.json()["Code"] == "InvalidParameter.MFABindRequired"
    policy = api.v3("GetPolicy", PolicyType="System", PolicyName="AdministratorAccess").json()
    assert policy["DefaultPolicyVersion"]["VersionId"] == "v1"
    assert '"Action": "*"' in policy["DefaultPolicyVersion"]["PolicyDocument"]


def test_failed_authentication_is_audited_in_the_key_owners_account(api, tenant):
    from audit.models import AuditEvent

    query = v1_query(api)
    query["Signature"] = "AAAA" + query["Signature"][4:]
    Client().post("/?" + urlencode(query))
    event = AuditEvent.objects.get(error_code="SignatureDoesNotMatch")
    assert event.account_id == tenant.account.pk
    assert event.actor_arn.endswith(":user/robot")
    assert event.details["access_key_id"] == api.key_id
    Client().post("/?" + urlencode({**v1_query(api), "AccessKeyId": "LTAInope0000000000000000"}))
    unknown = AuditEvent.objects.get(error_code="InvalidAccessKeyId.NotFound")
    assert unknown.account_id is None
