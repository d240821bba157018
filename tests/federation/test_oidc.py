"""AssumeRoleWithOIDC against a test identity provider: good tokens buy a role session; expired,
foreign-issuer, wrong-audience, badly signed, symmetric and replayed tokens are refused; trust
conditions see oidc:iss/aud/sub."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from federation.services import oidc_provider_create
from roles.services import role_create
from sts.models import StsSession
from tests.federation.oidc_idp import CLIENT_ID, ISSUER, TestIdp
from tests.openapi.conftest import Api

pytestmark = pytest.mark.django_db


def trust(provider_arn: str, condition: dict | None = None) -> str:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Federated": [provider_arn]},
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.fixture
def idp():
    return TestIdp()


@pytest.fixture
def setup(tenant, idp):
    root = tenant.root_principal
    provider = oidc_provider_create(
        actor=root, name="k8s", issuer_url=ISSUER, client_ids=CLIENT_ID, jwks=idp.jwks
    )
    condition = {
        "StringEquals": {"oidc:iss": ISSUER, "oidc:aud": CLIENT_ID},
        "StringLike": {"oidc:sub": "system:serviceaccount:payments:*"},
    }
    role = role_create(actor=root, name="payments", trust_policy=trust(provider.arn, condition))
    return {"provider": provider, "role": role}


def exchange(setup, token: str, **extra) -> tuple[int, dict]:
    query = {
        "Action": "AssumeRoleWithOIDC",
        "Version": "2015-04-01",
        "Format": "JSON",
        "Timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureNonce": "n",
        "OIDCProviderArn": setup["provider"].arn,
        "RoleArn": setup["role"].arn,
        "OIDCToken": token,
        "RoleSessionName": "api-pod",
        **extra,
    }
    response = Client().post("/?" + urlencode(query))
    return response.status_code, response.json()


def test_a_good_token_buys_a_role_session_usable_on_the_api(setup, idp, tenant):
    status, body = exchange(setup, idp.token())
    assert status == 200, body
    info = body["OIDCTokenInfo"]
    assert info["Subject"] == "system:serviceaccount:payments:api" and info["Issuer"] == ISSUER
    assert info["ClientIds"] == CLIENT_ID and info["ExpirationTime"].endswith("Z")
    assert body["AssumedRoleUser"]["Arn"] == f"{setup['role'].arn}/api-pod"
    creds = body["Credentials"]
    assert creds["AccessKeyId"].startswith("STS.")
    session = StsSession.objects.get(access_key_id=creds["AccessKeyId"])
    assert session.source_arn == setup["provider"].arn
    api = Api(creds["AccessKeyId"], creds["AccessKeySecret"])
    who = api.v1("GetCallerIdentity", "2015-04-01", SecurityToken=creds["SecurityToken"]).json()
    assert who["Arn"] == session.arn and who["IdentityType"] == "AssumedRoleUser"
    event = AuditEvent.objects.get(action="sts:AssumeRoleWithOIDC", outcome="success")
    assert event.account_id == tenant.account.pk and event.actor_kind == "federated"
    assert event.details["subject"] == "system:serviceaccount:payments:api"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"iss": "https://evil.example"}, "AuthenticationFail.OIDCToken.IssuerNotMatch"),
        ({"aud": "someone-else"}, "AuthenticationFail.OIDCToken.AudienceNotMatch"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "AuthenticationFail.OIDCToken.Expired"),
        ({"sub": None}, "AuthenticationFail.OIDCToken.Invalid"),
        ({"exp": None}, "AuthenticationFail.OIDCToken.Invalid"),
    ],
    ids=["issuer", "audience", "expired", "no-sub", "no-exp"],
)
def test_bad_claims_are_refused(setup, idp, overrides, code):
    status, body = exchange(setup, idp.token(**overrides))
    assert (status, body["Code"]) == (401, code), body
    assert not StsSession.objects.exists()
    assert AuditEvent.objects.filter(action="sts:AssumeRoleWithOIDC", error_code=code).exists()


def test_audience_lists_match_any_client_id(setup, idp):
    status, body = exchange(setup, idp.token(aud=["other", CLIENT_ID]))
    assert status == 200, body


def test_a_token_signed_by_another_key_is_refused(setup):
    status, body = exchange(setup, TestIdp(kid="idp-key-1").token())
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.InvalidSignature")


def test_tampered_and_malformed_tokens_are_refused(setup, idp):
    header, payload, signature = idp.token().split(".")
    forged = json.dumps({"iss": ISSUER, "sub": "root", "aud": CLIENT_ID, "exp": 4_000_000_000})
    import base64

    payload = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    status, body = exchange(setup, f"{header}.{payload}.{signature}")
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.InvalidSignature")
    for junk in ("abc", "a.b", "a.b.c", "x" * 30000):
        status, body = exchange(setup, junk)
        assert status == 401 and body["Code"] == "AuthenticationFail.OIDCToken.Invalid", junk


def test_symmetric_algorithms_are_refused(setup, idp):
    status, body = exchange(setup, idp.hs256_token())
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.Invalid")


def test_a_token_is_accepted_once(setup, idp):
    token = idp.token()
    assert exchange(setup, token)[0] == 200
    status, body = exchange(setup, token)
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.Invalid")
    assert "already used" in body["Message"]
    assert StsSession.objects.count() == 1


def test_a_used_token_stays_used_when_the_cache_forgets(setup, idp):
    """The record is durable: a culled, flushed or restarted cache can't bring a token back."""
    from django.core.cache import cache

    token = idp.token()
    assert exchange(setup, token)[0] == 200
    for i in range(1_000):  # past the database cache's MAX_ENTRIES: it culls
        cache.set(f"filler:{i}", i)
    cache.clear()
    status, body = exchange(setup, token)
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.Invalid")
    assert StsSession.objects.count() == 1


def test_an_old_token_is_refused_by_the_issuance_limit(setup, idp):
    token = idp.token(exp=int(timezone.now().timestamp()) + 48 * 3600)
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=13)):
        status, body = exchange(setup, token)
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.Expired")
    assert "IssuanceLimitTime" in body["Message"]


def test_trust_conditions_see_the_subject(setup, idp):
    status, body = exchange(setup, idp.token(sub="system:serviceaccount:billing:api"))
    assert (status, body["Code"]) == (403, "NoPermission")
    assert AuditEvent.objects.filter(
        action="sts:AssumeRoleWithOIDC", outcome="denied", error_code="NoPermission"
    ).exists()


def test_a_role_that_does_not_trust_the_provider_refuses(setup, idp, tenant):
    other = role_create(
        actor=tenant.root_principal,
        name="ops",
        trust_policy=trust(f"acs:ram::{tenant.account.uid}:oidc-provider/another"),
    )
    status, body = exchange(setup, idp.token(), RoleArn=other.arn)
    assert (status, body["Code"]) == (403, "NoPermission")


def test_a_provider_can_not_reach_another_accounts_role(setup, idp, other_tenant):
    theirs = role_create(
        actor=other_tenant.root_principal,
        name="theirs",
        trust_policy=trust(setup["provider"].arn),
    )
    status, body = exchange(setup, idp.token(), RoleArn=theirs.arn)
    assert (status, body["Code"]) == (403, "NoPermission")


def test_unknown_provider_and_missing_parameters(setup, idp, tenant):
    unknown = f"acs:ram::{tenant.account.uid}:oidc-provider/nobody"
    status, body = exchange(setup, idp.token(), OIDCProviderArn=unknown)
    assert (status, body["Code"]) == (401, "AuthenticationFail.NoPermission")
    status, body = exchange(setup, "", OIDCToken="")
    assert (status, body["Code"]) == (400, "MissingOIDCToken")
    status, body = exchange(setup, idp.token(), OIDCProviderArn="not-an-arn")
    assert (status, body["Code"]) == (400, "InvalidParameter.OIDCProviderArn")


def test_session_name_defaults_to_the_subject_and_duration_is_checked(setup, idp):
    status, body = exchange(setup, idp.token(), RoleSessionName="")
    assert status == 200
    assert body["AssumedRoleUser"]["Arn"].endswith("/system-serviceaccount-payments-api")
    status, body = exchange(setup, idp.token(), DurationSeconds="100")
    assert (status, body["Code"]) == (400, "InvalidParameter.DurationSeconds")


def test_a_provider_without_keys_explains_itself(tenant, idp):
    provider = oidc_provider_create(
        actor=tenant.root_principal,
        name="nokeys",
        issuer_url=ISSUER,
        client_ids=CLIENT_ID,
        fingerprints="902ef2deeb3c5b13ea4c3d5193629309e231ae55",
    )
    role = role_create(actor=tenant.root_principal, name="r2", trust_policy=trust(provider.arn))
    status, body = exchange({"provider": provider, "role": role}, idp.token())
    assert (status, body["Code"]) == (401, "AuthenticationFail.OIDCToken.InvalidSignature")
    assert "JWKS" in body["Message"]


def test_anonymous_exchanges_are_throttled_per_address(setup, idp, settings):
    settings.IAM_FEDERATION_PER_IP_PER_MINUTE = 2
    assert exchange(setup, idp.token())[0] == 200
    assert exchange(setup, idp.token())[0] == 200
    status, body = exchange(setup, idp.token())
    assert (status, body["Code"]) == (400, "Throttling.User")
    assert AuditEvent.objects.filter(
        action="sts:AssumeRoleWithOIDC", error_code="Throttling.User"
    ).exists()
