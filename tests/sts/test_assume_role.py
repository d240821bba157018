"""AssumeRole: identity ∩ trust, durations, chaining, session policies, cross-account, and
STS credentials used on the signed API (expiry and revocation enforced at use)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.errors import IamError, InvalidParameter
from accounts.models import User
from policies.authorization import authorize
from policies.services import policy_attach, policy_create
from roles.services import role_create
from sts.models import StsSession
from sts.selectors import sts_record
from sts.services import assume_role, revoke_role_sessions
from tests.conftest import principal_for, system_policy
from tests.openapi.conftest import Api

pytestmark = pytest.mark.django_db


def trust(*principals: str, deny: tuple[str, ...] = (), condition: dict | None = None) -> str:
    allow = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": list(principals)}}
    if condition:
        allow["Condition"] = condition
    statements = [allow]
    if deny:
        statements.append(
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"RAM": list(deny)}}
        )
    return json.dumps({"Version": "1", "Statement": statements})


@pytest.fixture
def setup(tenant):
    root = tenant.root_principal
    uid = tenant.account.uid
    role = role_create(
        actor=root,
        name="deployer",
        trust_policy=trust(f"acs:ram::{uid}:root"),
        max_session_duration=7200,
    )
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role)
    caller = tenant.make_user("ci", "AliyunSTSAssumeRoleAccess", console=False)
    return {"role": role, "caller": caller, "arn": role.arn, "uid": uid}


@pytest.mark.parametrize(
    ("identity_allows", "trust_kind", "expected"),
    [
        (True, "account", True),
        (True, "user", True),
        (True, "other-user", False),
        (True, "deny-user", False),
        (False, "account", False),
        (False, "user", False),
    ],
)
def test_identity_and_trust_must_both_allow(tenant, identity_allows, trust_kind, expected):
    root = tenant.root_principal
    uid = tenant.account.uid
    policies = ("AliyunSTSAssumeRoleAccess",) if identity_allows else ()
    caller = tenant.make_user("caller", *policies, console=False)
    document = {
        "account": trust(f"acs:ram::{uid}:root"),
        "user": trust(f"acs:ram::{uid}:user/caller"),
        "other-user": trust(f"acs:ram::{uid}:user/someone"),
        "deny-user": trust(f"acs:ram::{uid}:root", deny=(f"acs:ram::{uid}:user/caller",)),
    }[trust_kind]
    role = role_create(actor=root, name="r1", trust_policy=document)
    if expected:
        creds = assume_role(actor=principal_for(caller), role_arn=role.arn, session_name="s1")
        assert creds.session.access_key_id.startswith("STS.")
    else:
        with pytest.raises(IamError) as info:
            assume_role(actor=principal_for(caller), role_arn=role.arn, session_name="s1")
        assert info.value.code == "NoPermission" and info.value.status == 403
        assert not StsSession.objects.exists()


def test_root_cannot_assume_roles(tenant, setup):
    with pytest.raises(IamError) as info:
        assume_role(actor=tenant.root_principal, role_arn=setup["arn"], session_name="root")
    assert info.value.code == "NoPermission" and "RAM user" in info.value.message


@pytest.mark.parametrize(
    ("duration", "ok"),
    [(899, False), (900, True), (3600, True), (7200, True), (7201, False), (43201, False)],
)
def test_duration_bounds(setup, duration, ok):
    caller = principal_for(setup["caller"])
    if ok:
        creds = assume_role(
            actor=caller, role_arn=setup["arn"], session_name="s1", duration=duration
        )
        lifetime = creds.session.expires_at - creds.session.created_at
        assert abs(lifetime.total_seconds() - duration) <= 1
    else:
        with pytest.raises(InvalidParameter) as info:
            assume_role(actor=caller, role_arn=setup["arn"], session_name="s1", duration=duration)
        assert info.value.code == "InvalidParameter.DurationSeconds"


@pytest.mark.parametrize(
    ("name", "arn", "code"),
    [
        ("x", None, "InvalidParameter.RoleSessionName"),
        ("bad name", None, "InvalidParameter.RoleSessionName"),
        ("ok", "acs:ram::123:role/x", "InvalidParameter.RoleArn"),
        ("ok", "acs:ram::1234567890123456:role/nope", "EntityNotExist.Role"),
    ],
)
def test_bad_parameters(setup, name, arn, code):
    with pytest.raises(IamError) as info:
        assume_role(
            actor=principal_for(setup["caller"]), role_arn=arn or setup["arn"], session_name=name
        )
    assert info.value.code == code


def test_session_principal_has_role_policies_narrowed_by_the_session_policy(setup):
    caller = principal_for(setup["caller"])
    narrow = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"},
                {"Effect": "Allow", "Action": "ram:CreateUser", "Resource": "*"},
            ],
        }
    )
    creds = assume_role(actor=caller, role_arn=setup["arn"], session_name="narrow", policy=narrow)
    session = sts_record(creds.session.access_key_id).principal(caller.meta)
    users = f"acs:ram:*:{setup['uid']}:user/x"
    assert authorize(session, "ram:GetUser", users).allowed  # role ∩ session
    assert not authorize(session, "ram:ListUsers", users).allowed  # role only
    assert not authorize(session, "ram:CreateUser", users).allowed  # session only: never widens
    plain = assume_role(actor=caller, role_arn=setup["arn"], session_name="plain")
    full = sts_record(plain.session.access_key_id).principal(caller.meta)
    assert authorize(full, "ram:ListUsers", users).allowed


def test_external_id_condition(tenant, setup):
    uid = tenant.account.uid
    role = role_create(
        actor=tenant.root_principal,
        name="partner",
        trust_policy=trust(
            f"acs:ram::{uid}:root", condition={"StringEquals": {"sts:ExternalId": "abcd1234"}}
        ),
    )
    caller = principal_for(setup["caller"])
    with pytest.raises(IamError):
        assume_role(actor=caller, role_arn=role.arn, session_name="s1")
    with pytest.raises(IamError):
        assume_role(actor=caller, role_arn=role.arn, session_name="s1", external_id="wrong-id")
    assume_role(actor=caller, role_arn=role.arn, session_name="s1", external_id="abcd1234")


def test_cross_account(tenant, other_tenant, setup):
    other_uid = other_tenant.account.uid
    shared = role_create(
        actor=tenant.root_principal, name="shared", trust_policy=trust(f"acs:ram::{other_uid}:root")
    )
    policy_attach(
        actor=tenant.root_principal, policy=system_policy("AliyunRAMReadOnlyAccess"), role=shared
    )
    outsider = other_tenant.make_user("partner-ci", "AliyunSTSAssumeRoleAccess", console=False)
    not_allowed = other_tenant.make_user("partner-plain", console=False)
    creds = assume_role(actor=principal_for(outsider), role_arn=shared.arn, session_name="x1")
    session = sts_record(creds.session.access_key_id).principal(principal_for(outsider).meta)
    assert session.account_uid == tenant.account.uid
    assert authorize(session, "ram:ListUsers", f"acs:ram:*:{tenant.account.uid}:user/*").allowed
    assert not authorize(session, "ram:ListUsers", f"acs:ram:*:{other_uid}:user/*").allowed
    with pytest.raises(IamError):  # its own policies don't allow sts:AssumeRole
        assume_role(actor=principal_for(not_allowed), role_arn=shared.arn, session_name="x1")
    with pytest.raises(IamError):  # the role trusts the other account, not this one's users
        assume_role(actor=principal_for(setup["caller"]), role_arn=shared.arn, session_name="x1")
    # Nothing else of account A is visible to B's identities.
    assert not authorize(
        principal_for(outsider), "ram:GetRole", f"acs:ram:*:{tenant.account.uid}:role/shared"
    ).allowed


def test_role_chaining_is_capped_at_one_hour(tenant, setup):
    uid = tenant.account.uid
    second = role_create(
        actor=tenant.root_principal,
        name="second",
        max_session_duration=43200,
        trust_policy=trust(f"acs:ram::{uid}:role/deployer"),
    )
    policy_attach(
        actor=tenant.root_principal,
        policy=system_policy("AliyunSTSAssumeRoleAccess"),
        role=setup["role"],
    )
    first = assume_role(
        actor=principal_for(setup["caller"]), role_arn=setup["arn"], session_name="first"
    )
    session = sts_record(first.session.access_key_id).principal(principal_for(setup["caller"]).meta)
    with pytest.raises(InvalidParameter, match="chaining"):
        assume_role(actor=session, role_arn=second.arn, session_name="chained", duration=7200)
    chained = assume_role(actor=session, role_arn=second.arn, session_name="chained")
    assert chained.session.chained


def signed_with(creds) -> Api:
    api = Api(creds.session.access_key_id, creds.secret)
    api.token = creds.token
    return api


def test_sts_credentials_on_the_signed_api(setup):
    creds = assume_role(
        actor=principal_for(setup["caller"]), role_arn=setup["arn"], session_name="api"
    )
    api = signed_with(creds)
    ok = api.v1("ListUsers", extra={"SecurityToken": creds.token})
    assert ok.status_code == 200, ok.json()
    missing = api.v1("ListUsers")
    assert missing.json()["Code"] == "MissingSecurityToken"
    wrong = api.v1("ListUsers", extra={"SecurityToken": "not-the-token"})
    assert wrong.json()["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"
    denied = api.v1("CreateUser", UserName="x", extra={"SecurityToken": creds.token})
    assert denied.status_code == 403
    identity = api.v1(
        "GetCallerIdentity", version="2015-04-01", extra={"SecurityToken": creds.token}
    ).json()
    assert identity["IdentityType"] == "AssumedRoleUser"
    assert identity["Arn"] == f"acs:ram::{setup['uid']}:role/deployer/api"
    assert identity["PrincipalId"] == f"{setup['role'].role_id}:api"


def test_expired_and_revoked_tokens_fail_at_use_without_any_worker(tenant, setup):
    caller = principal_for(setup["caller"])
    creds = assume_role(actor=caller, role_arn=setup["arn"], session_name="short", duration=900)
    api = signed_with(creds)
    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        expired = api.v1("ListUsers", extra={"SecurityToken": creds.token})
    assert expired.json()["Code"] == "InvalidSecurityToken.Expired"
    live = assume_role(actor=caller, role_arn=setup["arn"], session_name="live")
    revoke_role_sessions(actor=tenant.root_principal, role=setup["role"])
    revoked = signed_with(live).v1("ListUsers", extra={"SecurityToken": live.token})
    assert revoked.json()["Code"] == "InvalidSecurityToken.Revoked"
    after = assume_role(actor=caller, role_arn=setup["arn"], session_name="after")
    assert (
        signed_with(after).v1("ListUsers", extra={"SecurityToken": after.token}).status_code == 200
    )


def test_get_caller_identity_for_root_and_users(tenant, api_for, setup):
    User.objects.filter(pk=setup["caller"].pk).update(programmatic_access=True)
    user_identity = api_for(setup["caller"]).v3("GetCallerIdentity", version="2015-04-01").json()
    assert user_identity["IdentityType"] == "RAMUser"
    assert user_identity["Arn"] == f"acs:ram::{setup['uid']}:user/ci"
    root_identity = api_for(tenant.root).v3("GetCallerIdentity", version="2015-04-01").json()
    assert root_identity == {
        **root_identity,
        "IdentityType": "Account",
        "Arn": f"acs:ram::{setup['uid']}:root",
        "UserId": setup["uid"],
    }


def test_custom_policy_on_role_and_delete_rules(tenant, setup):
    from accounts.errors import Conflict
    from roles.services import role_delete

    custom = policy_create(
        actor=tenant.root_principal,
        name="Extra",
        document=(
            '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListGroups",'
            '"Resource":"*"}]}'
        ),
    )
    policy_attach(actor=tenant.root_principal, policy=custom, role=setup["role"])
    with pytest.raises(Conflict) as info:
        role_delete(actor=tenant.root_principal, role=setup["role"])
    assert info.value.code == "DeleteConflict.Role.Policy"


def test_revokerolesessions_command(tenant, setup):
    import io

    from django.core.management import call_command

    creds = assume_role(
        actor=principal_for(setup["caller"]), role_arn=setup["arn"], session_name="cli1"
    )
    out = io.StringIO()
    call_command("revokerolesessions", "--account", setup["uid"], "--role", "DEPLOYER", stdout=out)
    assert "Revoked 1 active session" in out.getvalue()
    revoked = signed_with(creds).v1("ListUsers", extra={"SecurityToken": creds.token})
    assert revoked.json()["Code"] == "InvalidSecurityToken.Revoked"


def test_service_principal_assumes_only_roles_that_trust_it(tenant, setup):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("createservice", "fc.iam.localhost", "--json", stdout=out)
    service = json.loads(out.getvalue())
    assert service["AccessKeyId"].startswith("LTAS") and service["ServiceName"] == (
        "fc.iam.localhost"
    )
    function_role = role_create(
        actor=tenant.root_principal,
        name="fc-runtime",
        trust_policy=(
            '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
            '"Principal":{"Service":["fc.iam.localhost"]}}]}'
        ),
    )
    policy_attach(
        actor=tenant.root_principal,
        policy=system_policy("AliyunRAMReadOnlyAccess"),
        role=function_role,
    )
    api = Api(service["AccessKeyId"], service["AccessKeySecret"])
    issued = api.v3(
        "AssumeRole",
        version="2015-04-01",
        RoleArn=function_role.arn,
        RoleSessionName="invocation-1",
    ).json()
    assert issued["Credentials"]["AccessKeyId"].startswith("STS."), issued
    # The service can't assume a role that trusts RAM identities only ...
    refused = api.v3(
        "AssumeRole", version="2015-04-01", RoleArn=setup["arn"], RoleSessionName="nope"
    ).json()
    assert refused["Code"] == "NoPermission"
    # ... can't call RAM itself ...
    assert api.v3("ListUsers").json()["Code"] == "NoPermission"
    # ... and RAM users can never assume the service-trusted role.
    with pytest.raises(IamError):
        assume_role(
            actor=principal_for(setup["caller"]), role_arn=function_role.arn, session_name="user1"
        )
    identity = api.v3("GetCallerIdentity", version="2015-04-01").json()
    assert identity["IdentityType"] == "Service"


def test_an_unpermitted_caller_learns_nothing_about_which_roles_exist(setup, tenant):
    """Refused alike for an existing role and a missing one: authorization comes first."""
    from audit.models import AuditEvent

    nobody = principal_for(tenant.make_user("nobody"))
    missing = "acs:ram::1234567890123456:role/nope"
    codes = []
    for arn in (setup["arn"], missing):
        with pytest.raises(IamError) as info:
            assume_role(actor=nobody, role_arn=arn, session_name="probe")
        codes.append((info.value.status, info.value.code))
    assert codes == [(403, "NoPermission"), (403, "NoPermission")]
    denied = AuditEvent.objects.filter(action="sts:AssumeRole", outcome="denied")
    assert set(denied.values_list("target_arn", flat=True)) >= {missing}
