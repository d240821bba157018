"""alibabacloud_sts20150401 AssumeRoleWithOIDC (anonymous, as the SDK sends it) against a live
server, then RAM with the temporary credentials; a replayed token and a foreign audience are
refused with Alibaba's codes."""

from __future__ import annotations

import json

import pytest

from federation.services import oidc_provider_create
from policies.services import policy_attach
from roles.services import role_create
from tests.conftest import make_tenant, system_policy
from tests.federation.oidc_idp import CLIENT_ID, ISSUER, TestIdp
from tests.sdk.test_sts_sdk import ram_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server):
    tenant = make_tenant("oidcco")
    root = tenant.root_principal
    idp = TestIdp()
    provider = oidc_provider_create(
        actor=root, name="cluster", issuer_url=ISSUER, client_ids=CLIENT_ID, jwks=idp.jwks
    )
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Federated": [provider.arn]},
                    "Condition": {"StringEquals": {"oidc:aud": CLIENT_ID}},
                }
            ],
        }
    )
    role = role_create(actor=root, name="pod-reader", trust_policy=trust)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role)
    tenant.make_user("someone", console=False)
    return {
        "idp": idp,
        "provider": provider,
        "role": role,
        "host": live_server.url.removeprefix("http://"),
    }


def test_tea_sdk_assume_role_with_oidc_then_ram(world):
    from alibabacloud_ram20150501.models import ListUsersRequest
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_sts20150401.models import AssumeRoleWithOIDCRequest
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config

    sts = Client(Config(endpoint=world["host"], protocol="http"))
    token = world["idp"].token()
    response = sts.assume_role_with_oidc(
        AssumeRoleWithOIDCRequest(
            oidcprovider_arn=world["provider"].arn,
            role_arn=world["role"].arn,
            oidctoken=token,
            role_session_name="pod-1",
            duration_seconds=900,
        )
    )
    body = response.body
    assert body.oidctoken_info.subject == "system:serviceaccount:payments:api"
    assert body.oidctoken_info.issuer == ISSUER and body.oidctoken_info.client_ids == CLIENT_ID
    assert body.assumed_role_user.arn == f"{world['role'].arn}/pod-1"
    creds = body.credentials
    ram = ram_with(
        world["host"], creds.access_key_id, creds.access_key_secret, creds.security_token
    )
    users = ram.list_users(ListUsersRequest()).body.users.user
    assert [u.user_name for u in users] == ["someone"]

    with pytest.raises(ClientException) as replayed:
        sts.assume_role_with_oidc(
            AssumeRoleWithOIDCRequest(
                oidcprovider_arn=world["provider"].arn,
                role_arn=world["role"].arn,
                oidctoken=token,
                role_session_name="pod-1",
            )
        )
    assert replayed.value.code == "AuthenticationFail.OIDCToken.Invalid"
    with pytest.raises(ClientException) as foreign:
        sts.assume_role_with_oidc(
            AssumeRoleWithOIDCRequest(
                oidcprovider_arn=world["provider"].arn,
                role_arn=world["role"].arn,
                oidctoken=world["idp"].token(aud="someone-else"),
                role_session_name="pod-1",
            )
        )
    assert foreign.value.code == "AuthenticationFail.OIDCToken.AudienceNotMatch"
