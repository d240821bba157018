"""STS through the official SDKs against a live server: AssumeRole with the tea SDK (V3), the
credentials provider (`ram_role_arn`, V1 GET, `Host: http://…`, a session policy with spaces)
and the legacy SDK; then RAM calls with the temporary credentials."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from alibabacloud_ram20150501.models import ListUsersRequest
from django.utils import timezone

from accounts.access_keys import access_key_create
from accounts.models import User
from policies.services import policy_attach
from roles.services import role_create
from sts.models import StsSession
from sts.services import revoke_role_sessions
from tests.conftest import make_tenant, principal_for, system_policy

pytestmark = pytest.mark.django_db(transaction=True)

SESSION_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}
        ],
    }
)


@pytest.fixture
def world(live_server):
    tenant = make_tenant("stsco")
    root = tenant.root_principal
    uid = tenant.account.uid
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [f"acs:ram::{uid}:root"]},
                }
            ],
        }
    )
    role = role_create(actor=root, name="reader", trust_policy=trust)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role)
    caller = tenant.make_user("ci", "AliyunSTSAssumeRoleAccess", console=False)
    User.objects.filter(pk=caller.pk).update(programmatic_access=True)
    key, secret = access_key_create(
        actor=principal_for(tenant.root), user=User.objects.get(pk=caller.pk)
    )
    host = live_server.url.removeprefix("http://")
    return {
        "tenant": tenant,
        "role": role,
        "key": key.access_key_id,
        "secret": secret,
        "host": host,
        "url": live_server.url,
    }


def ram_with(host: str, key_id: str, secret: str, token: str, algorithm: str | None = None):
    from alibabacloud_ram20150501.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=host,
        protocol="http",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return Client(config)


def test_tea_sdk_assume_role_then_ram(world):
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_sts20150401.models import AssumeRoleRequest
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config

    sts = Client(
        Config(
            access_key_id=world["key"],
            access_key_secret=world["secret"],
            endpoint=world["host"],
            protocol="http",
        )
    )
    response = sts.assume_role(
        AssumeRoleRequest(role_arn=world["role"].arn, role_session_name="tea", duration_seconds=900)
    )
    creds = response.body.credentials
    assert creds.access_key_id.startswith("STS.") and creds.expiration.endswith("Z")
    assert response.body.assumed_role_user.arn.endswith(":role/reader/tea")
    for algorithm in (None, "v2"):  # V3 header token, then V1 query SecurityToken
        ram = ram_with(
            world["host"],
            creds.access_key_id,
            creds.access_key_secret,
            creds.security_token,
            algorithm,
        )
        users = ram.list_users(ListUsersRequest()).body.users.user
        assert [u.user_name for u in users] == ["ci"]
        with pytest.raises(ClientException) as info:
            from alibabacloud_ram20150501.models import CreateUserRequest

            ram.create_user(CreateUserRequest(user_name="nope"))
        assert info.value.code == "NoPermission"
    identity = (
        Client(
            Config(
                access_key_id=creds.access_key_id,
                access_key_secret=creds.access_key_secret,
                security_token=creds.security_token,
                endpoint=world["host"],
                protocol="http",
            )
        )
        .get_caller_identity()
        .body
    )
    assert identity.identity_type == "AssumedRoleUser"


def test_credentials_provider_ram_role_arn(world):
    """V1 GET with quote_plus encoding, Host with a scheme, a session policy with spaces."""
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.models import Config as CredentialConfig
    from alibabacloud_ram20150501.client import Client
    from alibabacloud_tea_openapi.models import Config

    provider = CredentialClient(
        CredentialConfig(
            type="ram_role_arn",
            access_key_id=world["key"],
            access_key_secret=world["secret"],
            role_arn=world["role"].arn,
            role_session_name="provider",
            policy=SESSION_POLICY,
            sts_endpoint=world["url"],
        )
    )
    ram = Client(Config(credential=provider, endpoint=world["host"], protocol="http"))
    assert [u.user_name for u in ram.list_users(ListUsersRequest()).body.users.user] == ["ci"]
    session = StsSession.objects.get(session_name="provider")
    assert json.loads(session.session_policy)["Statement"][0]["Action"] == [
        "ram:ListUsers",
        "ram:GetUser",
    ]


def test_legacy_sdk_assume_role(world):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

    client = AcsClient(world["key"], world["secret"], "cn-hangzhou")
    request = AssumeRoleRequest()
    request.set_endpoint(world["host"])
    request.set_protocol_type("http")
    request.set_RoleArn(world["role"].arn)
    request.set_RoleSessionName("legacy")
    body = json.loads(client.do_action_with_exception(request))
    assert body["Credentials"]["AccessKeyId"].startswith("STS.")
    assert body["AssumedRoleUser"]["AssumedRoleId"].endswith(":legacy")
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkram.request.v20150501.ListUsersRequest import ListUsersRequest as Legacy

    creds = body["Credentials"]
    temporary = AcsClient(
        region_id="cn-hangzhou",
        credential=StsTokenCredential(
            creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]
        ),
    )
    listing = Legacy()
    listing.set_endpoint(world["host"])
    listing.set_protocol_type("http")
    users = json.loads(temporary.do_action_with_exception(listing))["Users"]["User"]
    assert [u["UserName"] for u in users] == ["ci"]


def test_expired_and_revoked_tokens_through_the_sdk(world):
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_sts20150401.models import AssumeRoleRequest
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config

    sts = Client(
        Config(
            access_key_id=world["key"],
            access_key_secret=world["secret"],
            endpoint=world["host"],
            protocol="http",
        )
    )

    def fresh():
        creds = sts.assume_role(
            AssumeRoleRequest(role_arn=world["role"].arn, role_session_name="s1")
        ).body.credentials
        return creds, ram_with(
            world["host"], creds.access_key_id, creds.access_key_secret, creds.security_token
        )

    creds, ram = fresh()
    StsSession.objects.filter(access_key_id=creds.access_key_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ClientException) as info:
        ram.list_users(ListUsersRequest())
    assert info.value.code == "InvalidSecurityToken.Expired"
    creds, ram = fresh()
    revoke_role_sessions(actor=world["tenant"].root_principal, role=world["role"])
    with pytest.raises(ClientException) as info:
        ram.list_users(ListUsersRequest())
    assert info.value.code == "InvalidSecurityToken.Revoked"
