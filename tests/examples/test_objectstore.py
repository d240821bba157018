"""The example object store, driven by the official SDKs (tea V3 call_api, core V1
CommonRequest), running as its own process and asking the live server about every call."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode

import pytest
import urllib3.util.connection
from iamconsole_resource.signing import sign

from accounts.models import User
from audit.models import AuditEvent
from policies.models import Policy
from policies.services import policy_detach, policy_version_create
from tests.conftest import principal_for
from tests.examples.conftest import free_port
from tests.resource_services.conftest import CallError, api_for, grant, legacy_call, tea_call

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["api_for"]  # the fixture, shared with tests/resource_services

CALLERS = pytest.mark.parametrize("call", [tea_call, legacy_call], ids=["tea-v3", "core-v1"])


def store_policy(uid: str, bucket: str = "*", actions: str | list[str] = "oss:*") -> dict:
    return {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": actions,
                "Resource": [f"acs:oss:*:{uid}:{bucket}", f"acs:oss:*:{uid}:{bucket}/*"],
            }
        ],
    }


@pytest.fixture
def robot(tenant, api_for):
    """A programmatic RAM user of the tenant, with an AccessKey and no policy yet."""
    user = tenant.make_user("robot", console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    api = api_for(user)
    return user, api.key_id, api.secret


def refused(call, *args, **kwargs) -> CallError:
    with pytest.raises(CallError) as raised:
        call(*args, **kwargs)
    return raised.value


def events(action: str, outcome: str):
    return AuditEvent.objects.filter(action=action, outcome=outcome).order_by("id")


@CALLERS
def test_a_users_key_allowed_by_a_policy_runs_the_whole_lifecycle(call, tenant, robot, objectstore):
    user, key_id, secret = robot
    uid = tenant.account.uid
    grant(tenant, user, store_policy(uid))
    at = (objectstore.endpoint, key_id, secret)

    created = call(*at, "CreateBucket", {"Bucket": "reports"})
    assert created["Bucket"] == "reports" and created["Owner"] == uid and created["RequestId"]
    meta = json.loads((objectstore.data / "buckets/reports/bucket.json").read_text())
    assert meta["Owner"] == uid

    text = "hello wörld"
    put = call(*at, "PutObject", {"Bucket": "reports", "Key": "2026/q1.txt", "Content": text})
    assert put["Size"] == len(text.encode())
    call(*at, "PutObject", {"Bucket": "reports", "Key": "2026/q2.txt", "Content": "second"})
    call(*at, "PutObject", {"Bucket": "reports", "Key": "readme", "Content": ""})
    got = call(*at, "GetObject", {"Bucket": "reports", "Key": "2026/q1.txt"})
    assert got["Content"] == text and got["RequestId"]
    listed = call(*at, "ListObjects", {"Bucket": "reports", "Prefix": "2026/"})
    assert listed["Objects"] == [
        {"Key": "2026/q1.txt", "Size": len(text.encode())},
        {"Key": "2026/q2.txt", "Size": 6},
    ]
    assert len(call(*at, "ListObjects", {"Bucket": "reports"})["Objects"]) == 3

    call(*at, "DeleteObject", {"Bucket": "reports", "Key": "2026/q1.txt"})
    gone = refused(call, *at, "GetObject", {"Bucket": "reports", "Key": "2026/q1.txt"})
    assert (gone.status, gone.code) == (404, "NoSuchKey")
    again = refused(call, *at, "CreateBucket", {"Bucket": "reports"})
    assert (again.status, again.code) == (409, "BucketAlreadyExists")
    missing = refused(call, *at, "GetObject", {"Bucket": "nowhere", "Key": "k"})
    assert (missing.status, missing.code) == (404, "NoSuchBucket")

    # Each allowed call is a data event in the owner's log, naming the service that asked;
    # the bucket's ARN is in the caller's account (${CallerAccountId} replaced).
    creation = events("oss:CreateBucket", "success").first()
    assert creation.details["service"] == "oss.example"
    assert creation.target_arn == f"acs:oss:*:{uid}:reports"
    assert creation.account_id == tenant.account.pk
    reads = events("oss:GetObject", "success")
    assert {e.target_arn for e in reads} >= {f"acs:oss:*:{uid}:reports/2026/q1.txt"}
    assert all(e.details["service"] == "oss.example" for e in reads)


def test_refused_without_a_policy_and_nothing_is_written(tenant, robot, objectstore):
    _, key_id, secret = robot
    denied = refused(
        tea_call, objectstore.endpoint, key_id, secret, "CreateBucket", {"Bucket": "mine"}
    )
    assert (denied.status, denied.code) == (403, "NoPermission")
    assert denied.message and "oss:CreateBucket" in denied.message
    assert not (objectstore.data / "buckets/mine").exists()
    event = events("oss:CreateBucket", "denied").get()
    assert event.details["service"] == "oss.example"
    assert event.details["decision"] == "ImplicitDeny"
    assert event.target_arn == f"acs:oss:*:{tenant.account.uid}:mine"


def test_bad_names_and_missing_parameters_are_refused_and_keys_stay_inside(
    tenant, robot, objectstore
):
    user, key_id, secret = robot
    grant(tenant, user, store_policy(tenant.account.uid))
    at = (objectstore.endpoint, key_id, secret)
    for bucket in ("UPPER", "a", "dots.not.allowed", "-edge", "../up"):
        bad = refused(tea_call, *at, "CreateBucket", {"Bucket": bucket})
        assert bad.status == 400 and "InvalidBucketName" in bad.message, bucket
    tea_call(*at, "CreateBucket", {"Bucket": "safe"})
    for key in ("/absolute", "\\win", "line\nbreak", "x" * 181):
        bad = refused(tea_call, *at, "PutObject", {"Bucket": "safe", "Key": key, "Content": "x"})
        assert bad.status == 400 and "InvalidObjectName" in bad.message, key
    no_key = refused(tea_call, *at, "GetObject", {"Bucket": "safe"})
    assert (no_key.status, no_key.code) == (400, "MissingParameter")
    no_content = refused(tea_call, *at, "PutObject", {"Bucket": "safe", "Key": "k"})
    assert (no_content.status, no_content.code) == (400, "MissingParameter")
    # V3 covers the body by its hash; a query is sent to iamconsole whole, so it is bounded.
    long_query = {"Bucket": "safe", "Key": "big", "Content": "x" * 40_000}
    too_long = refused(tea_call, *at, "PutObject", long_query)
    assert (too_long.status, too_long.code) == (414, "InvalidParameter.RequestSize")
    huge = {"Content": "x" * (1 << 20)}
    too_big = refused(tea_call, *at, "PutObject", {"Bucket": "safe", "Key": "big"}, huge)
    assert (too_big.status, too_big.code) == (413, "InvalidParameter.RequestSize")
    wrong_action = refused(tea_call, *at, "DeleteBucket", {"Bucket": "safe"})
    assert (wrong_action.status, wrong_action.code) == (404, "InvalidApi.NotFound")

    large = "y" * 200_000
    tea_call(*at, "PutObject", {"Bucket": "safe", "Key": "large"}, {"Content": large})
    assert tea_call(*at, "GetObject", {"Bucket": "safe", "Key": "large"})["Content"] == large
    tea_call(*at, "DeleteObject", {"Bucket": "safe", "Key": "large"})

    # Path-like keys are names, not paths: they round-trip and land inside the bucket.
    sneaky = "../../../escape/../../etc/passwd"
    tea_call(*at, "PutObject", {"Bucket": "safe", "Key": sneaky, "Content": "inside"})
    assert tea_call(*at, "GetObject", {"Bucket": "safe", "Key": sneaky})["Content"] == "inside"
    listed = tea_call(*at, "ListObjects", {"Bucket": "safe", "Prefix": "../"})["Objects"]
    assert listed == [{"Key": sneaky, "Size": 6}]
    files = objectstore.files()
    assert len(files) == 2 and "buckets/safe/bucket.json" in files  # nothing of "big" either
    (stored,) = files - {"buckets/safe/bucket.json"}
    assert stored.startswith("buckets/safe/objects/") and stored.count("/") == 3


def test_an_explicit_deny_wins_over_an_allow(tenant, robot, objectstore):
    user, key_id, secret = robot
    uid = tenant.account.uid
    grant(tenant, user, store_policy(uid))
    deny = {
        "Version": "1",
        "Statement": [
            {
                "Sid": "KeepPrivate",
                "Effect": "Deny",
                "Action": ["oss:GetObject", "oss:DeleteObject"],
                "Resource": f"acs:oss:*:{uid}:vault/private/*",
            }
        ],
    }
    grant(tenant, user, deny, name="keep-private")
    at = (objectstore.endpoint, key_id, secret)
    tea_call(*at, "CreateBucket", {"Bucket": "vault"})
    for key in ("public/a", "private/b"):
        tea_call(*at, "PutObject", {"Bucket": "vault", "Key": key, "Content": key})
    assert (
        tea_call(*at, "GetObject", {"Bucket": "vault", "Key": "public/a"})["Content"] == "public/a"
    )
    for action in ("GetObject", "DeleteObject"):
        denied = refused(tea_call, *at, action, {"Bucket": "vault", "Key": "private/b"})
        assert (denied.status, denied.code) == (403, "NoPermission")
        assert "explicitly denied" in denied.message
    listed = tea_call(*at, "ListObjects", {"Bucket": "vault", "Prefix": "private/"})
    assert listed["Objects"] == [{"Key": "private/b", "Size": 9}]  # the Deny kept it
    event = events("oss:DeleteObject", "denied").get()
    assert event.details["service"] == "oss.example"
    assert event.details["decision"] == "ExplicitDeny"
    assert event.details["statement"]["sid"] == "KeepPrivate"


def test_a_condition_on_the_listed_prefix(tenant, robot, objectstore):
    """ListObjects passes oss:Prefix, so a policy can open part of a bucket's listing."""
    user, key_id, secret = robot
    uid = tenant.account.uid
    document = store_policy(uid, "shelf", ["oss:CreateBucket", "oss:PutObject"])
    document["Statement"].append(
        {
            "Effect": "Allow",
            "Action": "oss:ListObjects",
            "Resource": f"acs:oss:*:{uid}:shelf",
            "Condition": {"StringLike": {"oss:Prefix": "public/*"}},
        }
    )
    grant(tenant, user, document)
    at = (objectstore.endpoint, key_id, secret)
    tea_call(*at, "CreateBucket", {"Bucket": "shelf"})
    for key in ("public/a", "private/b"):
        tea_call(*at, "PutObject", {"Bucket": "shelf", "Key": key, "Content": "."})
    listed = tea_call(*at, "ListObjects", {"Bucket": "shelf", "Prefix": "public/"})
    assert listed["Objects"] == [{"Key": "public/a", "Size": 1}]
    for prefix in ("private/", ""):
        denied = refused(tea_call, *at, "ListObjects", {"Bucket": "shelf", "Prefix": prefix})
        assert denied.code == "NoPermission"


def test_served_by_gunicorn_workers(tenant, robot, start_objectstore):
    user, key_id, secret = robot
    grant(tenant, user, store_policy(tenant.account.uid))
    store = start_objectstore(None, "--workers", "2", "--threads", "2")
    at = (store.endpoint, key_id, secret)
    tea_call(*at, "CreateBucket", {"Bucket": "pooled"})
    for n in range(6):  # spread over both workers: each asks iamconsole itself
        tea_call(*at, "PutObject", {"Bucket": "pooled", "Key": f"k{n}", "Content": str(n)})
    assert legacy_call(*at, "GetObject", {"Bucket": "pooled", "Key": "k5"})["Content"] == "5"
    assert len(legacy_call(*at, "ListObjects", {"Bucket": "pooled"})["Objects"]) == 6
    assert events("oss:PutObject", "success").count() == 6


def test_a_source_ip_condition_sees_the_original_caller(tenant, robot, objectstore, monkeypatch):
    """The store reaches iamconsole from 127.0.0.1; the caller comes from 127.0.0.2. Only the
    caller's address may satisfy the condition."""
    user, key_id, secret = robot
    uid = tenant.account.uid
    document = store_policy(uid)
    document["Statement"][0]["Condition"] = {"IpAddress": {"acs:SourceIp": "127.0.0.2/32"}}
    grant(tenant, user, document)
    at = (objectstore.endpoint, key_id, secret)
    denied = refused(tea_call, *at, "CreateBucket", {"Bucket": "by-address"})
    assert denied.code == "NoPermission"
    assert events("oss:CreateBucket", "denied").get().source_ip == "127.0.0.1"

    original = urllib3.util.connection.create_connection

    def from_second_loopback(address, *args, **kwargs):
        if address[1] == objectstore.port:
            kwargs["source_address"] = ("127.0.0.2", 0)
        return original(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", from_second_loopback)
    tea_call(*at, "CreateBucket", {"Bucket": "by-address"})
    tea_call(*at, "PutObject", {"Bucket": "by-address", "Key": "k", "Content": "near"})
    assert events("oss:CreateBucket", "success").get().source_ip == "127.0.0.2"
    monkeypatch.undo()
    far = refused(tea_call, *at, "GetObject", {"Bucket": "by-address", "Key": "k"})
    assert far.code == "NoPermission"
    assert events("oss:GetObject", "denied").get().source_ip == "127.0.0.1"


def _role_credentials(tenant, user, document: dict):
    """A role holding `document`, trusted by the account, assumed by `user` as job-1."""
    from roles.services import role_create
    from sts.services import assume_role

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
    role = role_create(actor=tenant.root_principal, name="writer", trust_policy=json.dumps(trust))
    from policies.services import policy_attach, policy_create

    policy = policy_create(
        actor=tenant.root_principal, name="oss-role", document=json.dumps(document)
    )
    policy_attach(actor=tenant.root_principal, policy=policy, role=role)
    may_assume = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role.resource_arn}
        ],
    }
    grant(tenant, user, may_assume, name="may-assume")
    return assume_role(actor=principal_for(user), role_arn=role.arn, session_name="job-1")


@CALLERS
def test_a_roles_sts_credentials_work_until_the_session_is_revoked(
    call, tenant, robot, objectstore
):
    from sts.services import revoke_session

    user, _, _ = robot
    uid = tenant.account.uid
    creds = _role_credentials(tenant, user, store_policy(uid, "jobs"))
    at = (objectstore.endpoint, creds.session.access_key_id, creds.secret)
    token = {"token": creds.token}
    assert call(*at, "CreateBucket", {"Bucket": "jobs"}, **token)["Owner"] == uid
    call(*at, "PutObject", {"Bucket": "jobs", "Key": "out", "Content": "by role"}, **token)
    assert call(*at, "GetObject", {"Bucket": "jobs", "Key": "out"}, **token)["Content"] == "by role"
    event = events("oss:PutObject", "success").get()
    assert event.actor_arn == f"acs:ram::{uid}:role/writer/job-1"
    assert event.details["service"] == "oss.example"

    revoke_session(actor=tenant.root_principal, session=creds.session)
    revoked = refused(
        call, *at, "PutObject", {"Bucket": "jobs", "Key": "out", "Content": "x"}, **token
    )
    assert revoked.code == "InvalidSecurityToken.Revoked"
    meta = json.loads((objectstore.data / "buckets/jobs/bucket.json").read_text())
    assert meta["Owner"] == uid
    (stored,) = (objectstore.data / "buckets/jobs/objects").iterdir()
    assert stored.read_text() == "by role"


def test_a_detached_policy_is_refused_on_the_very_next_call(tenant, robot, objectstore):
    user, key_id, secret = robot
    grant(tenant, user, store_policy(tenant.account.uid))
    at = (objectstore.endpoint, key_id, secret)
    tea_call(*at, "CreateBucket", {"Bucket": "brief"})
    tea_call(*at, "PutObject", {"Bucket": "brief", "Key": "k", "Content": "v"})
    assert tea_call(*at, "GetObject", {"Bucket": "brief", "Key": "k"})["Content"] == "v"
    policy = Policy.objects.get(account=tenant.account, name="oss-access")
    policy_detach(actor=tenant.root_principal, policy=policy, user=user)
    denied = refused(tea_call, *at, "GetObject", {"Bucket": "brief", "Key": "k"})
    assert (denied.status, denied.code) == (403, "NoPermission")
    # And a narrower version set as default bites just as fast once re-attached.
    from policies.services import policy_attach

    policy_attach(actor=tenant.root_principal, policy=policy, user=user)
    assert tea_call(*at, "GetObject", {"Bucket": "brief", "Key": "k"})["Content"] == "v"
    narrower = store_policy(tenant.account.uid, actions="oss:ListObjects")
    policy_version_create(
        actor=tenant.root_principal,
        policy=policy,
        document=json.dumps(narrower),
        set_as_default=True,
    )
    assert (
        refused(tea_call, *at, "GetObject", {"Bucket": "brief", "Key": "k"}).code == "NoPermission"
    )
    assert tea_call(*at, "ListObjects", {"Bucket": "brief"})["Objects"] == [{"Key": "k", "Size": 1}]


def test_a_replayed_request_is_refused(tenant, robot, objectstore):
    """An eavesdropper resends a captured, validly signed PutObject byte for byte."""
    user, key_id, secret = robot
    grant(tenant, user, store_policy(tenant.account.uid))
    at = (objectstore.endpoint, key_id, secret)
    tea_call(*at, "CreateBucket", {"Bucket": "ledger"})
    body = urlencode({"Bucket": "ledger", "Key": "balance", "Content": "100"}).encode()
    headers = sign(
        method="POST",
        host=objectstore.endpoint,
        path="/",
        action="PutObject",
        version="2026-12-01",
        body=body,
        content_type="application/x-www-form-urlencoded",
        access_key_id=key_id,
        access_key_secret=secret,
    )

    def send() -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", objectstore.port, timeout=20)
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        answer = (response.status, json.loads(response.read()))
        connection.close()
        return answer

    assert send()[0] == 200
    tea_call(*at, "PutObject", {"Bucket": "ledger", "Key": "balance", "Content": "0"})
    status, answer = send()
    assert (status, answer["Code"]) == (400, "SignatureNonceUsed")
    assert set(answer) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert tea_call(*at, "GetObject", {"Bucket": "ledger", "Key": "balance"})["Content"] == "0"


def test_another_accounts_key_is_refused_on_this_accounts_bucket(
    tenant, other_tenant, robot, api_for, objectstore
):
    user, key_id, secret = robot
    uid = tenant.account.uid
    grant(tenant, user, store_policy(uid))
    tea_call(objectstore.endpoint, key_id, secret, "CreateBucket", {"Bucket": "acme-data"})
    tea_call(
        objectstore.endpoint,
        key_id,
        secret,
        "PutObject",
        {"Bucket": "acme-data", "Key": "plan", "Content": "secret plan"},
    )
    intruder = other_tenant.make_user("intruder", console=False)
    User.objects.filter(pk=intruder.pk).update(programmatic_access=True)
    # A policy of its own account naming this account's bucket grants nothing here.
    grant(other_tenant, intruder, store_policy(uid), name="wishful")
    grant(other_tenant, intruder, store_policy(other_tenant.account.uid), name="own")
    api = api_for(intruder)
    theirs = (objectstore.endpoint, api.key_id, api.secret)
    for action, extra in (("GetObject", {"Key": "plan"}), ("ListObjects", {})):
        denied = refused(tea_call, *theirs, action, {"Bucket": "acme-data", **extra})
        assert (denied.status, denied.code) == (403, "NoPermission")
    overwrite = {"Bucket": "acme-data", "Key": "plan", "Content": "defaced"}
    assert refused(legacy_call, *theirs, "PutObject", overwrite).code == "NoPermission"
    # Bucket names are global: the name is taken, even for the other account.
    taken = refused(tea_call, *theirs, "CreateBucket", {"Bucket": "acme-data"})
    assert (taken.status, taken.code) == (409, "BucketAlreadyExists")
    mine = (objectstore.endpoint, key_id, secret)
    assert tea_call(*mine, "GetObject", {"Bucket": "acme-data", "Key": "plan"})["Content"] == (
        "secret plan"
    )
    owners = set(events("oss:GetObject", "denied").values_list("account_id", flat=True))
    assert owners == {tenant.account.pk, other_tenant.account.pk}


def test_iamconsole_unreachable_means_503_and_nothing_is_written(tenant, robot, start_objectstore):
    user, key_id, secret = robot
    grant(tenant, user, store_policy(tenant.account.uid))
    cut_off = start_objectstore(iam_endpoint=f"http://127.0.0.1:{free_port()}")
    at = (cut_off.endpoint, key_id, secret)
    for call in (tea_call, legacy_call):
        down = refused(call, *at, "CreateBucket", {"Bucket": "offline"})
        assert (down.status, down.code) == (503, "ServiceUnavailable")
    assert not (cut_off.data / "buckets/offline").exists()
    assert "refusing oss:CreateBucket" in cut_off.log.read_text()
