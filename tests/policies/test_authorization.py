"""authorize(): user ∪ group policies, root scope, cross-account, immediate effect of changes."""

from __future__ import annotations

import pytest

from accounts.errors import Conflict, InvalidParameter, NoPermission
from audit.models import AuditEvent
from groups.services import group_add_user, group_create, group_remove_user
from policies.authorization import authorize
from policies.engine import Effect
from policies.models import Policy
from policies.services import (
    policy_attach,
    policy_create,
    policy_delete,
    policy_detach,
    policy_version_create,
    policy_version_delete,
    policy_version_set_default,
)
from tests.conftest import principal_for, system_policy

pytestmark = pytest.mark.django_db

DENY_DELETE = (
    '{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:DeleteUser","Resource":"*"}]}'
)
READ_USERS = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:GetUser","ram:ListUsers"],'
    '"Resource":"*"}]}'
)


def users_arn(tenant, name="*"):
    return f"acs:ram:*:{tenant.account.uid}:user/{name}"


def test_root_may_do_anything_in_its_account_and_nothing_elsewhere(tenant, other_tenant):
    root = tenant.root_principal
    assert authorize(root, "ram:DeleteUser", users_arn(tenant, "x")).allowed
    assert authorize(root, "ram:GetPolicy", "acs:ram:*:system:policy/ReadOnlyAccess").allowed
    assert not authorize(root, "ram:GetUser", users_arn(other_tenant, "x")).allowed


def test_plain_user_is_implicitly_denied(tenant, plain):
    decision = authorize(principal_for(plain), "ram:ListUsers", users_arn(tenant))
    assert decision.effect is Effect.IMPLICIT_DENY


def test_admin_cannot_act_on_another_account(tenant, other_tenant, admin):
    assert authorize(principal_for(admin), "ram:ListUsers", users_arn(tenant)).allowed
    assert not authorize(principal_for(admin), "ram:ListUsers", users_arn(other_tenant)).allowed


def test_user_and_group_policies_are_united_and_deny_wins(tenant, plain):
    root = tenant.root_principal
    reader = policy_create(actor=root, name="ReadUsers", document=READ_USERS)
    no_delete = policy_create(actor=root, name="NoDelete", document=DENY_DELETE)
    group = group_create(actor=root, name="ops")
    policy_attach(actor=root, policy=reader, user=plain)
    policy_attach(actor=root, policy=system_policy("AliyunRAMFullAccess"), group=group)
    policy_attach(actor=root, policy=no_delete, group=group)
    group_add_user(actor=root, group=group, user=plain)
    me = principal_for(plain)
    assert authorize(me, "ram:GetUser", users_arn(tenant, "x")).allowed
    assert authorize(me, "ram:CreateGroup", f"acs:ram:*:{tenant.account.uid}:group/g").allowed
    decision = authorize(me, "ram:DeleteUser", users_arn(tenant, "x"))
    assert decision.effect is Effect.EXPLICIT_DENY
    assert decision.deciding.source.policy_name == "NoDelete"
    assert decision.deciding.source.via == "group/ops"


def test_removing_a_member_removes_its_rights_on_the_next_request(tenant, plain):
    root = tenant.root_principal
    group = group_create(actor=root, name="admins")
    policy_attach(actor=root, policy=system_policy("AdministratorAccess"), group=group)
    group_add_user(actor=root, group=group, user=plain)
    assert authorize(principal_for(plain), "ram:ListUsers", users_arn(tenant)).allowed
    group_remove_user(actor=root, group=group, user=plain)
    assert not authorize(principal_for(plain), "ram:ListUsers", users_arn(tenant)).allowed


def test_new_default_version_and_detach_bite_immediately(tenant, plain):
    root = tenant.root_principal
    policy = policy_create(actor=root, name="Readers", document=READ_USERS)
    policy_attach(actor=root, policy=policy, user=plain)
    assert authorize(principal_for(plain), "ram:GetUser", users_arn(tenant, "a")).allowed
    policy_version_create(actor=root, policy=policy, document=DENY_DELETE, set_as_default=True)
    assert not authorize(principal_for(plain), "ram:GetUser", users_arn(tenant, "a")).allowed
    policy_version_set_default(actor=root, policy=policy, version_id="v1")
    assert authorize(principal_for(plain), "ram:GetUser", users_arn(tenant, "a")).allowed
    policy_detach(actor=root, policy=policy, user=plain)
    assert not authorize(principal_for(plain), "ram:GetUser", users_arn(tenant, "a")).allowed


def test_conditions_see_the_request_context(tenant, plain):
    root = tenant.root_principal
    mfa_only = policy_create(
        actor=root,
        name="MfaOnly",
        document=(
            '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*",'
            '"Condition":{"Bool":{"acs:MFAPresent":"true"},'
            '"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}'
        ),
    )
    policy_attach(actor=root, policy=mfa_only, user=plain)
    arn = users_arn(tenant)
    assert authorize(principal_for(plain, mfa=True, ip="10.1.2.3"), "ram:ListUsers", arn).allowed
    assert not authorize(
        principal_for(plain, mfa=False, ip="10.1.2.3"), "ram:ListUsers", arn
    ).allowed
    assert not authorize(principal_for(plain, mfa=True, ip="8.8.8.8"), "ram:ListUsers", arn).allowed


def test_denied_service_call_is_audited_and_changes_nothing(tenant, plain):
    with pytest.raises(NoPermission):
        group_create(actor=principal_for(plain), name="sneaky")
    assert not tenant.account.groups.exists()
    event = AuditEvent.objects.get(action="ram:CreateGroup")
    assert event.outcome == "denied" and event.error_code == "NoPermission"
    assert event.actor_arn == plain.arn


def test_policy_lifecycle_rules(tenant, plain):
    root = tenant.root_principal
    policy = policy_create(actor=root, name="P1", document=READ_USERS)
    for _ in range(4):
        policy_version_create(actor=root, policy=policy, document=READ_USERS)
    with pytest.raises(Conflict, match="at most 5 versions"):
        policy_version_create(actor=root, policy=policy, document=READ_USERS)
    rotated = policy_version_create(actor=root, policy=policy, document=READ_USERS, rotate=True)
    assert rotated.version_id == "v6"
    assert list(policy.versions.values_list("version_id", flat=True)) == [
        "v1",
        "v3",
        "v4",
        "v5",
        "v6",
    ]
    with pytest.raises(Conflict) as info:
        policy_version_delete(actor=root, policy=policy, version_id="v1")
    assert info.value.code == "DeleteConflict.Policy.Version.Default"
    policy_attach(actor=root, policy=policy, user=plain)
    with pytest.raises(Conflict) as info:
        policy_delete(actor=root, policy=policy)
    assert info.value.code == "DeleteConflict.Policy.User"
    assert "plain" in info.value.message
    policy_detach(actor=root, policy=policy, user=plain)
    with pytest.raises(Conflict) as info:
        policy_delete(actor=root, policy=policy)
    assert info.value.code == "DeleteConflict.Policy.Version"
    policy_delete(actor=root, policy=policy, cascade=True)
    assert not Policy.objects.filter(name="P1").exists()


def test_malformed_policy_is_refused_with_the_reason_and_nothing_is_written(tenant):
    root = tenant.root_principal
    with pytest.raises(InvalidParameter) as info:
        policy_create(actor=root, name="Bad", document='{"Version":"1","Statement":[{}]}')
    assert info.value.code == "MalformedPolicyDocument"
    assert "Statement[0]" in info.value.message
    assert not Policy.objects.filter(name="Bad").exists()
    with pytest.raises(InvalidParameter) as info:
        policy_create(
            actor=root,
            name="Huge",
            document='{"Version":"1","Statement":['
            + ",".join(['{"Effect":"Allow","Action":"ram:GetUser","Resource":"*"}'] * 200)
            + "]}",
        )
    assert info.value.code == "InvalidParameter.PolicyDocument.Length"


def test_system_policies_are_seeded_and_read_only(tenant):
    names = set(Policy.objects.filter(account__isnull=True).values_list("name", flat=True))
    assert {
        "AdministratorAccess",
        "ReadOnlyAccess",
        "AliyunRAMFullAccess",
        "AliyunRAMReadOnlyAccess",
        "AliyunSTSAssumeRoleAccess",
        "AuditReadOnlyAccess",
    } <= names
    with pytest.raises(InvalidParameter):
        policy_version_create(
            actor=tenant.root_principal, policy=system_policy("ReadOnlyAccess"), document=READ_USERS
        )


def test_attach_limits_and_duplicates(tenant, plain):
    root = tenant.root_principal
    policy_attach(actor=root, policy=system_policy("ReadOnlyAccess"), user=plain)
    with pytest.raises(Conflict) as info:
        policy_attach(actor=root, policy=system_policy("ReadOnlyAccess"), user=plain)
    assert info.value.code == "EntityAlreadyExists.User.Policy"
    for i in range(10):
        policy_attach(
            actor=root,
            user=plain,
            policy=policy_create(actor=root, name=f"C{i}", document=READ_USERS),
        )
    with pytest.raises(Conflict) as info:
        policy_attach(
            actor=root,
            user=plain,
            policy=policy_create(actor=root, name="C10", document=READ_USERS),
        )
    assert info.value.code == "LimitExceeded.User.Policy"
