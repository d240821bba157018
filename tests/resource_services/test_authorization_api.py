"""The authorization API for resource services, driven end to end: the official SDKs sign a
request to a guarded service, the client package asks the live server, the engine decides."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from audit.models import AuditEvent
from resource_services.models import DataEventSetting
from tests.resource_services.conftest import CallError, grant, legacy_call, tea_call

pytestmark = pytest.mark.django_db(transaction=True)


def reader_policy(uid: str, bucket: str = "b1") -> dict:
    return {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:ListObjects"],
                "Resource": [f"acs:oss:*:{uid}:{bucket}", f"acs:oss:*:{uid}:{bucket}/*"],
            }
        ],
    }


@pytest.fixture
def robot(tenant, api_for):
    user = tenant.make_user("robot", console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    api = api_for(user)
    return user, api.key_id, api.secret


@pytest.mark.parametrize("caller", [tea_call, legacy_call], ids=["tea-v3", "core-v1"])
def test_a_policy_allows_and_its_absence_refuses(caller, tenant, robot, guarded):
    user, key_id, secret = robot
    endpoint = guarded(tenant.account.uid)
    with pytest.raises(CallError) as refused:
        caller(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k1"})
    assert (refused.value.status, refused.value.code) == (403, "NoPermission")
    grant(tenant, user, reader_policy(tenant.account.uid))
    body = caller(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k1"})
    assert body == {"Arn": f"acs:ram::{tenant.account.uid}:user/robot", "Type": "RAMUser"}
    # Another bucket is outside the grant.
    with pytest.raises(CallError) as other:
        caller(endpoint, key_id, secret, "GetObject", {"Bucket": "b2", "Key": "k1"})
    assert other.value.code == "NoPermission"


def test_an_explicit_deny_wins_and_the_answer_names_the_statement(tenant, robot, guarded):
    user, key_id, secret = robot
    uid = tenant.account.uid
    grant(tenant, user, reader_policy(uid))
    deny = {
        "Version": "1",
        "Statement": [
            {
                "Sid": "NoSecrets",
                "Effect": "Deny",
                "Action": "oss:*",
                "Resource": f"acs:oss:*:{uid}:b1/secret/*",
            }
        ],
    }
    grant(tenant, user, deny, name="no-secrets")
    endpoint = guarded(uid)
    assert tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "open"})
    with pytest.raises(CallError) as denied:
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "secret/x"})
    assert denied.value.code == "NoPermission" and "explicitly denied" in denied.value.message
    event = AuditEvent.objects.filter(action="oss:GetObject", outcome="denied").get()
    assert event.account_id == tenant.account.pk
    assert event.details["service"] == "oss.example"
    assert event.details["decision"] == "ExplicitDeny"
    assert event.details["statement"]["policy"] == "no-secrets"
    assert event.details["statement"]["sid"] == "NoSecrets"
    assert event.target_arn == f"acs:oss:*:{uid}:b1/secret/x"


def test_the_source_ip_condition_sees_the_original_caller(tenant, robot, guarded):
    user, key_id, secret = robot
    uid = tenant.account.uid
    document = reader_policy(uid)
    document["Statement"][0]["Condition"] = {"IpAddress": {"acs:SourceIp": "10.9.0.0/16"}}
    grant(tenant, user, document)
    endpoint = guarded(uid)
    # The caller is 127.0.0.1 as the service saw it: outside the block.
    with pytest.raises(CallError) as refused:
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert refused.value.code == "NoPermission"
    event = AuditEvent.objects.filter(action="oss:GetObject").latest("id")
    assert event.source_ip == "127.0.0.1"
    DocumentSwap = {"IpAddress": {"acs:SourceIp": "127.0.0.0/8"}}
    from policies.models import Policy
    from policies.services import policy_version_create

    policy = Policy.objects.get(account=tenant.account, name="oss-access")
    document["Statement"][0]["Condition"] = DocumentSwap
    policy_version_create(
        actor=tenant.root_principal,
        policy=policy,
        document=json.dumps(document),
        set_as_default=True,
    )
    assert tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})


def test_a_replayed_request_is_refused(tenant, robot, guarded, monkeypatch):
    user, key_id, secret = robot
    grant(tenant, user, reader_policy(tenant.account.uid))
    endpoint = guarded(tenant.account.uid)
    from aliyunsdkcore.utils import parameter_helper

    monkeypatch.setattr(parameter_helper, "get_uuid", lambda: "fixed-nonce-rs-0001")
    legacy_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    with pytest.raises(CallError) as replayed:
        legacy_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert (replayed.value.status, replayed.value.code) == (400, "SignatureNonceUsed")


def test_a_bad_signature_is_passed_through(tenant, robot, guarded):
    _, key_id, _ = robot
    endpoint = guarded(tenant.account.uid)
    with pytest.raises(CallError) as bad:
        tea_call(endpoint, key_id, "not-the-secret", "GetObject", {"Bucket": "b1", "Key": "k"})
    assert bad.value.code == "SignatureDoesNotMatch"
    with pytest.raises(CallError) as unknown:
        tea_call(endpoint, "LTAInothere", "x", "GetObject", {"Bucket": "b1", "Key": "k"})
    assert (unknown.value.status, unknown.value.code) == (404, "InvalidAccessKeyId.NotFound")
    failure = AuditEvent.objects.filter(action="oss:GetObject", outcome="error").first()
    assert failure is not None and failure.details["service"] == "oss.example"


def test_another_accounts_key_is_refused_on_this_accounts_bucket(
    tenant, other_tenant, guarded, api_for
):
    intruder = other_tenant.make_user("intruder", console=False)
    User.objects.filter(pk=intruder.pk).update(programmatic_access=True)
    # Even a policy of its own account naming this bucket grants nothing here.
    grant(other_tenant, intruder, reader_policy(tenant.account.uid))
    api = api_for(intruder)
    endpoint = guarded(tenant.account.uid)
    with pytest.raises(CallError) as refused:
        tea_call(endpoint, api.key_id, api.secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert refused.value.code == "NoPermission"
    owners = set(
        AuditEvent.objects.filter(action="oss:GetObject", outcome="denied").values_list(
            "account_id", flat=True
        )
    )
    assert owners == {tenant.account.pk, other_tenant.account.pk}


def test_allowed_data_events_are_recorded_unless_switched_off(tenant, robot, guarded):
    user, key_id, secret = robot
    grant(tenant, user, reader_policy(tenant.account.uid))
    endpoint = guarded(tenant.account.uid)
    tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    allowed = AuditEvent.objects.filter(action="oss:GetObject", outcome="success")
    assert allowed.count() == 1
    assert allowed.get().details["decision"] == "Allow"
    DataEventSetting.objects.create(account=tenant.account, record_allowed=False)
    tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert allowed.count() == 1
    with pytest.raises(CallError):
        tea_call(endpoint, key_id, secret, "PutObject", {"Bucket": "b1", "Key": "k"})
    assert AuditEvent.objects.filter(action="oss:PutObject", outcome="denied").count() == 1


def test_iamconsole_unreachable_means_503(tenant, robot, guarded):
    import socket

    spare = socket.socket()
    spare.bind(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()
    _, key_id, secret = robot
    endpoint = guarded(tenant.account.uid, endpoint=f"http://127.0.0.1:{port}")
    with pytest.raises(CallError) as refused:
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert (refused.value.status, refused.value.code) == (503, "ServiceUnavailable")


def _role_session(tenant, user, policy_document: dict):
    """A role trusted by the account, holding `policy_document`, assumed by `user`."""
    from roles.services import role_create
    from sts.services import assume_role
    from tests.conftest import principal_for

    uid = tenant.account.uid
    trust = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{uid}:root"]},
            }
        ],
    }
    role = role_create(actor=tenant.root_principal, name="reader", trust_policy=json.dumps(trust))
    from policies.models import Policy
    from policies.services import policy_attach, policy_create

    policy = policy_create(
        actor=tenant.root_principal, name="role-oss", document=json.dumps(policy_document)
    )
    policy_attach(actor=tenant.root_principal, policy=policy, role=role)
    grant(
        tenant,
        user,
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
        },
        name="may-assume",
    )
    creds = assume_role(actor=principal_for(user), role_arn=role.arn, session_name="job-1")
    return role, Policy.objects.get(pk=policy.pk), creds


@pytest.mark.parametrize("caller", [tea_call, legacy_call], ids=["tea-v3", "core-v1"])
def test_role_credentials_work_until_revoked(caller, tenant, robot, guarded):
    from sts.services import revoke_session

    user, _, _ = robot
    uid = tenant.account.uid
    _, _, creds = _role_session(tenant, user, reader_policy(uid))
    endpoint = guarded(uid)
    key = creds.session.access_key_id
    body = caller(
        endpoint, key, creds.secret, "GetObject", {"Bucket": "b1", "Key": "k"}, token=creds.token
    )
    assert body == {"Arn": f"acs:ram::{uid}:role/reader/job-1", "Type": "AssumedRoleUser"}
    revoke_session(actor=tenant.root_principal, session=creds.session)
    with pytest.raises(CallError) as revoked:
        caller(
            endpoint,
            key,
            creds.secret,
            "GetObject",
            {"Bucket": "b1", "Key": "k"},
            token=creds.token,
        )
    assert revoked.value.code == "InvalidSecurityToken.Revoked"


def test_a_detached_role_policy_bites_on_the_very_next_call(tenant, robot, guarded):
    from policies.services import policy_detach

    user, _, _ = robot
    uid = tenant.account.uid
    role, policy, creds = _role_session(tenant, user, reader_policy(uid))
    endpoint = guarded(uid)
    call = ("GetObject", {"Bucket": "b1", "Key": "k"})
    key, secret, token = creds.session.access_key_id, creds.secret, creds.token
    assert tea_call(endpoint, key, secret, *call, token=token)
    policy_detach(actor=tenant.root_principal, policy=policy, role=role)
    with pytest.raises(CallError) as refused:
        tea_call(endpoint, key, secret, *call, token=token)
    assert refused.value.code == "NoPermission"


def test_a_request_signed_for_another_services_host_is_refused_before_its_nonce_is_spent(
    tenant, robot, guarded, live_server
):
    """A service bound to its hosts can't be handed a request meant for another service."""
    from iamconsole_resource import Authorizer, IncomingRequest

    from sts.models import TrustedService

    user, key_id, secret = robot
    grant(tenant, user, reader_policy(tenant.account.uid))
    TrustedService.objects.filter(name="oss.example").update(hosts=["oss.example.com"])
    endpoint = guarded(tenant.account.uid)
    with pytest.raises(CallError) as refused:
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert (refused.value.status, refused.value.code) == (400, "InvalidParameter.Host")
    TrustedService.objects.filter(name="oss.example").update(hosts=["127.0.0.1"])
    assert tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    assert Authorizer and IncomingRequest  # the package's public names stay importable


def test_wildcards_and_duplicates_in_the_callers_request_are_the_callers_error(
    tenant, robot, guarded
):
    user, key_id, secret = robot
    grant(tenant, user, reader_policy(tenant.account.uid))
    endpoint = guarded(tenant.account.uid)
    # The store builds the resource from the Key: a wildcard in it must not widen the question.
    with pytest.raises(CallError) as wildcard:
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "*"})
    assert (wildcard.value.status, wildcard.value.code) == (400, "InvalidParameter.Resource")
    assert not AuditEvent.objects.filter(action="oss:GetObject", outcome="success").exists()


def test_a_resource_of_no_known_account_is_recorded_in_the_callers_trail(tenant, robot, guarded):
    user, key_id, secret = robot
    document = reader_policy("9999999999999999")
    grant(tenant, user, document)
    endpoint = guarded("9999999999999999")
    with pytest.raises(CallError):
        tea_call(endpoint, key_id, secret, "GetObject", {"Bucket": "b1", "Key": "k"})
    event = AuditEvent.objects.get(action="oss:GetObject")
    assert event.account_id == tenant.account.pk and event.outcome == "denied"
