"""The RAM API through the official SDKs, against a live server."""

from __future__ import annotations

import pytest

from accounts.access_keys import access_key_create
from accounts.models import AccessKey, User
from tests.conftest import make_tenant
from tests.sdk.conftest import SdkError

pytestmark = pytest.mark.django_db(transaction=True)

READ_USERS = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:GetUser","ram:ListUsers"],'
    '"Resource":"*"}]}'
)


@pytest.fixture
def root_client(sdk):
    tenant = make_tenant("acme")
    key, secret = access_key_create(actor=tenant.root_principal, user=tenant.root)
    return sdk(key.access_key_id, secret)


def test_realistic_scenario(sdk, root_client):
    created = root_client.call(
        "CreateUser", UserName="app1", DisplayName="App One", Comments="a b*c~d"
    )
    assert created["User"]["UserName"] == "app1"
    assert created["User"]["DisplayName"] == "App One"
    assert len(created["User"]["UserId"]) == 16
    root_client.call("CreateGroup", GroupName="readers", Comments="read only")
    root_client.call(
        "CreatePolicy",
        PolicyName="ReadUsers",
        PolicyDocument=READ_USERS,
        Description="get and list users",
    )
    root_client.call(
        "AttachPolicyToGroup", PolicyType="Custom", PolicyName="ReadUsers", GroupName="readers"
    )
    root_client.call("AddUserToGroup", GroupName="readers", UserName="app1")
    key = root_client.call("CreateAccessKey", UserName="app1")["AccessKey"]
    assert key["AccessKeyId"].startswith("LTAI") and len(key["AccessKeySecret"]) == 30
    assert key["Status"] == "Active"

    app = sdk(key["AccessKeyId"], key["AccessKeySecret"])
    assert app.call("GetUser", UserName="app1")["User"]["DisplayName"] == "App One"
    listed = app.call("ListUsers")
    assert [u["UserName"] for u in listed["Users"]["User"]] == ["app1"]
    assert listed["IsTruncated"] is False
    with pytest.raises(SdkError) as denied:
        app.call("CreateUser", UserName="sneaky")
    assert denied.value.code == "NoPermission" and denied.value.status == 403
    assert not User.objects.filter(name="sneaky").exists()

    last_used = root_client.call(
        "GetAccessKeyLastUsed", UserName="app1", UserAccessKeyId=key["AccessKeyId"]
    )
    assert last_used["AccessKeyLastUsed"]["LastUsedDate"].endswith("Z")
    policies = root_client.call("ListPoliciesForGroup", GroupName="readers")
    assert policies["Policies"]["Policy"][0]["PolicyName"] == "ReadUsers"
    entities = root_client.call(
        "ListEntitiesForPolicy", PolicyType="Custom", PolicyName="ReadUsers"
    )
    assert entities["Groups"]["Group"][0]["GroupName"] == "readers"


def test_error_cases(sdk, root_client):
    root_client.call("CreateUser", UserName="bob")
    cases = [
        (lambda: root_client.call("CreateUser", UserName="bob"), "EntityAlreadyExists.User", 409),
        (lambda: root_client.call("GetUser", UserName="nobody"), "EntityNotExist.User", 404),
        (lambda: root_client.call("CreateUser"), "MissingUserName", 400),
        (
            lambda: root_client.call("CreateUser", UserName="bad name!"),
            "InvalidParameter.UserName.InvalidChars",
            400,
        ),
        (
            lambda: root_client.call(
                "CreatePolicy", PolicyName="Bad", PolicyDocument='{"Version":"1"}'
            ),
            "MalformedPolicyDocument",
            400,
        ),
    ]
    for call, code, status in cases:
        with pytest.raises(SdkError) as info:
            call()
        assert (info.value.code, info.value.status) == (code, status), info.value
    root_client.call("CreateAccessKey", UserName="bob")
    root_client.call("CreateAccessKey", UserName="bob")
    with pytest.raises(SdkError) as info:
        root_client.call("CreateAccessKey", UserName="bob")
    assert info.value.code == "LimitExceeded.User.AccessKey"


def test_wrong_secret_and_disabled_key(sdk, root_client):
    key = root_client.call("CreateAccessKey")["AccessKey"]
    with pytest.raises(SdkError) as info:
        sdk(key["AccessKeyId"], "W" + key["AccessKeySecret"][1:] + "W").call("ListUsers")
    assert info.value.code in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")
    with pytest.raises(SdkError) as info:
        sdk("LTAInotarealkey000000000", "secret").call("ListUsers")
    assert info.value.code == "InvalidAccessKeyId.NotFound"
    root_client.call("UpdateAccessKey", UserAccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(SdkError) as info:
        sdk(key["AccessKeyId"], key["AccessKeySecret"]).call("ListUsers")
    assert info.value.code == "InvalidAccessKeyId.Inactive"
    assert AccessKey.objects.get(access_key_id=key["AccessKeyId"]).status == "Inactive"


def _legacy(live_server, key):
    from tests.sdk.conftest import LegacyClient

    return LegacyClient(
        live_server.url.removeprefix("http://"), key["AccessKeyId"], key["AccessKeySecret"]
    )


@pytest.fixture
def root_key():
    tenant = make_tenant("replay")
    key, secret = access_key_create(actor=tenant.root_principal, user=tenant.root)
    return {"AccessKeyId": key.access_key_id, "AccessKeySecret": secret}


def test_replayed_nonce_is_refused(live_server, root_key, monkeypatch):
    from aliyunsdkcore.utils import parameter_helper

    client = _legacy(live_server, root_key)
    monkeypatch.setattr(parameter_helper, "get_uuid", lambda: "fixed-nonce-0001")
    client.call("ListUsers")
    with pytest.raises(SdkError) as info:
        client.call("ListUsers")
    assert (info.value.code, info.value.status) == ("SignatureNonceUsed", 400)


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(-16, "InvalidTimeStamp.Expired"), (16, "InvalidTimeStamp.Expired"), (-14, None), (14, None)],
)
def test_timestamp_skew(live_server, root_key, monkeypatch, minutes, code):
    from datetime import UTC, datetime, timedelta

    from aliyunsdkcore.utils import parameter_helper

    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    monkeypatch.setattr(
        parameter_helper, "get_iso_8061_date", lambda: moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    client = _legacy(live_server, root_key)
    if code is None:
        assert "Users" in client.call("ListUsers")
        return
    with pytest.raises(SdkError) as info:
        client.call("ListUsers")
    assert info.value.code == code


def test_unknown_action(live_server, root_key):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    client = AcsClient(root_key["AccessKeyId"], root_key["AccessKeySecret"], "cn-hangzhou")
    request = CommonRequest(
        domain=live_server.url.removeprefix("http://"),
        version="2015-05-01",
        action_name="NoSuchAction",
    )
    request.set_protocol_type("http")
    with pytest.raises(ServerException) as info:
        client.do_action_with_exception(request)
    assert info.value.get_error_code() == "InvalidApi.NotFound"
    assert info.value.get_http_status() == 404


def test_virtual_mfa_device_lifecycle(sdk, root_client):
    import time

    import pyotp

    root_client.call("CreateUser", UserName="carol")
    created = root_client.call("CreateVirtualMFADevice", VirtualMFADeviceName="carol-phone")
    device = created["VirtualMFADevice"]
    assert device["SerialNumber"].endswith(":mfa/carol-phone")
    assert device["QRCodePNG"].startswith("iVBOR")  # base64 of a PNG signature
    totp = pyotp.TOTP(device["Base32StringSeed"])
    now = time.time()
    with pytest.raises(SdkError) as info:
        root_client.call(
            "BindMFADevice",
            SerialNumber=device["SerialNumber"],
            UserName="carol",
            AuthenticationCode1=totp.at(now),
            AuthenticationCode2=totp.at(now),
        )
    assert info.value.code == "CheckAuthenticationCodeFail"
    root_client.call(
        "BindMFADevice",
        SerialNumber=device["SerialNumber"],
        UserName="carol",
        AuthenticationCode1=totp.at(now - 30),
        AuthenticationCode2=totp.at(now),
    )
    info_ = root_client.call("GetUserMFAInfo", UserName="carol")
    assert info_["MFADevice"] == {"SerialNumber": device["SerialNumber"], "Type": "VMFA"}
    listed = root_client.call("ListVirtualMFADevices")["VirtualMFADevices"]["VirtualMFADevice"]
    assert listed[0]["User"]["UserName"] == "carol" and listed[0]["ActivateDate"]
    with pytest.raises(SdkError) as info:
        root_client.call("DeleteVirtualMFADevice", SerialNumber=device["SerialNumber"])
    assert info.value.code == "DeleteConflict.VirtualMFADevice.User"
    unbound = root_client.call("UnbindMFADevice", UserName="carol")
    assert unbound["MFADevice"]["SerialNumber"] == device["SerialNumber"]
    root_client.call("DeleteVirtualMFADevice", SerialNumber=device["SerialNumber"])
    with pytest.raises(SdkError) as info:
        root_client.call("GetUserMFAInfo", UserName="carol")
    assert info.value.code == "EntityNotExist.User.MFADevice"


def test_delete_policy_attached_to_a_role_needs_cascading_delete(sdk, root_client):
    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        '"Principal":{"Service":["ecs.aliyuncs.com"]}}]}'
    )
    root_client.call("CreatePolicy", PolicyName="p1", PolicyDocument=READ_USERS)
    root_client.call("CreateRole", RoleName="r1", AssumeRolePolicyDocument=trust)
    root_client.call("AttachPolicyToRole", PolicyType="Custom", PolicyName="p1", RoleName="r1")
    with pytest.raises(SdkError) as info:
        root_client.call("DeletePolicy", PolicyName="p1")
    assert (info.value.code, info.value.status) == ("DeleteConflict.Policy.Role", 409)
    root_client.call("DeletePolicy", PolicyName="p1", CascadingDelete=True)
    listed = root_client.call("ListPoliciesForRole", RoleName="r1")
    assert listed["Policies"]["Policy"] == []
