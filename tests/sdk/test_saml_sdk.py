"""alibabacloud_sts20150401 AssumeRoleWithSAML (anonymous) with a response from a real pysaml2
identity provider, then RAM with the temporary credentials."""

from __future__ import annotations

import json

import pytest

from federation.saml import ROLE_ATTRIBUTE, SESSION_ATTRIBUTE, role_sp
from federation.services import saml_provider_create
from policies.services import policy_attach
from roles.services import role_create
from tests.conftest import make_tenant, system_policy
from tests.federation.saml_idp import TestSamlIdp
from tests.sdk.test_sts_sdk import ram_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.saml]


def test_tea_sdk_assume_role_with_saml_then_ram(live_server, settings):
    from alibabacloud_ram20150501.models import ListUsersRequest
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_sts20150401.models import AssumeRoleWithSAMLRequest
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config

    settings.IAM_PUBLIC_URL = live_server.url
    tenant = make_tenant("samlco")
    root = tenant.root_principal
    idp = TestSamlIdp()
    provider = saml_provider_create(actor=root, name="adfs", metadata=idp.metadata)
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Federated": [provider.arn]},
                    "Condition": {"StringEquals": {"saml:recipient": role_sp().acs_url}},
                }
            ],
        }
    )
    role = role_create(actor=root, name="saml-reader", trust_policy=trust)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role)
    tenant.make_user("someone", console=False)
    assertion = idp.response(
        role_sp(),
        subject="alice@corp.example",
        attributes={ROLE_ATTRIBUTE: [f"{role.arn},{provider.arn}"], SESSION_ATTRIBUTE: ["alice"]},
    )
    sts = Client(Config(endpoint=live_server.url.removeprefix("http://"), protocol="http"))
    request = AssumeRoleWithSAMLRequest(
        samlprovider_arn=provider.arn,
        role_arn=role.arn,
        samlassertion=assertion,
        duration_seconds=900,
    )
    body = sts.assume_role_with_saml(request).body
    assert body.samlassertion_info.subject == "alice@corp.example"
    assert body.samlassertion_info.recipient == role_sp().acs_url
    assert body.assumed_role_user.arn == f"{role.arn}/alice"
    creds = body.credentials
    ram = ram_with(
        live_server.url.removeprefix("http://"),
        creds.access_key_id,
        creds.access_key_secret,
        creds.security_token,
    )
    assert [u.user_name for u in ram.list_users(ListUsersRequest()).body.users.user] == ["someone"]
    with pytest.raises(ClientException) as replayed:
        sts.assume_role_with_saml(request)
    assert replayed.value.code == "AuthenticationFail.SAMLAssertion.Invalid"
