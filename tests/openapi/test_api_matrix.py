"""Every mutating RAM action for four callers: unsigned, another account's administrator,
a key without permission, and a permitted key (exactly one audit event, with the key id)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access_keys import access_key_create
from accounts.models import AccessKey, SecurityPreference, User, VirtualMFADevice
from accounts.virtual_mfa import device_create, record_console_enrollment
from audit.models import AuditEvent
from groups.services import group_add_user, group_create
from policies.services import policy_attach, policy_create, policy_version_create
from tests.conftest import PASSWORD, system_policy
from tests.test_view_matrix import snapshot

pytestmark = pytest.mark.django_db

DOC = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"*"}]}'

ACTIONS = [
    ("CreateUser", {"UserName": "newbie"}, False),
    ("UpdateUser", {"UserName": "bob", "NewDisplayName": "Bob B"}, True),
    ("DeleteUser", {"UserName": "dave"}, True),
    ("CreateLoginProfile", {"UserName": "dave", "Password": PASSWORD}, True),
    ("UpdateLoginProfile", {"UserName": "bob", "PasswordResetRequired": "True"}, True),
    ("DeleteLoginProfile", {"UserName": "bob"}, True),
    ("CreateAccessKey", {"UserName": "bob"}, True),
    (
        "UpdateAccessKey",
        {"UserName": "bob", "UserAccessKeyId": "{bobkey}", "Status": "Inactive"},
        True,
    ),
    ("DeleteAccessKey", {"UserName": "bob", "UserAccessKeyId": "{bobkey}"}, True),
    ("CreateGroup", {"GroupName": "g2"}, False),
    ("UpdateGroup", {"GroupName": "g1", "NewComments": "x"}, True),
    ("DeleteGroup", {"GroupName": "empty"}, True),
    ("AddUserToGroup", {"GroupName": "g1", "UserName": "bob"}, True),
    ("RemoveUserFromGroup", {"GroupName": "g1", "UserName": "carol"}, True),
    ("CreatePolicy", {"PolicyName": "P2", "PolicyDocument": DOC}, False),
    ("UpdatePolicyDescription", {"PolicyName": "P1", "NewDescription": "d"}, True),
    ("DeletePolicy", {"PolicyName": "Spare"}, True),
    ("CreatePolicyVersion", {"PolicyName": "P1", "PolicyDocument": DOC}, True),
    ("SetDefaultPolicyVersion", {"PolicyName": "P1", "VersionId": "v2"}, True),
    ("DeletePolicyVersion", {"PolicyName": "P1", "VersionId": "v2"}, True),
    (
        "AttachPolicyToUser",
        {"PolicyType": "System", "PolicyName": "ReadOnlyAccess", "UserName": "bob"},
        True,
    ),
    (
        "AttachPolicyToGroup",
        {"PolicyType": "System", "PolicyName": "ReadOnlyAccess", "GroupName": "g1"},
        True,
    ),
    (
        "DetachPolicyFromUser",
        {"PolicyType": "Custom", "PolicyName": "P1", "UserName": "carol"},
        True,
    ),
    (
        "DetachPolicyFromGroup",
        {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess", "GroupName": "g1"},
        True,
    ),
    ("SetPasswordPolicy", {"MinimumPasswordLength": "12"}, False),
    ("SetSecurityPreference", {"AllowUserToManageAccessKeys": "True"}, False),
    ("SetAccountAlias", {"AccountAlias": "acme-two"}, False),
    ("ClearAccountAlias", {}, False),
    ("CreateVirtualMFADevice", {"VirtualMFADeviceName": "new-phone"}, False),
    ("DeleteVirtualMFADevice", {"SerialNumber": "{spare}"}, True),
    ("UnbindMFADevice", {"UserName": "carol"}, True),
]


@pytest.fixture
def world(tenant, other_tenant, api_for):
    root = tenant.root_principal
    admin = tenant.make_user("api-admin", "AdministratorAccess", console=False)
    plain = tenant.make_user("api-plain", console=False)
    outsider = other_tenant.make_user("api-intruder", "AdministratorAccess", console=False)
    for user in (admin, plain, outsider):
        User.objects.filter(pk=user.pk).update(programmatic_access=True)
    bob = tenant.make_user("bob")
    User.objects.filter(pk=bob.pk).update(programmatic_access=True)
    tenant.make_user("dave", console=False)
    carol = tenant.make_user("carol")
    bob_key, _ = access_key_create(actor=root, user=User.objects.get(pk=bob.pk))
    group = group_create(actor=root, name="g1")
    group_create(actor=root, name="empty")
    group_add_user(actor=root, group=group, user=carol)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), group=group)
    p1 = policy_create(actor=root, name="P1", document=DOC)
    policy_version_create(actor=root, policy=p1, document=DOC)
    policy_attach(actor=root, policy=p1, user=carol)
    policy_create(actor=root, name="Spare", document=DOC)
    spare, _, _ = device_create(actor=root, name="spare-mfa")
    record_console_enrollment(carol, TOTPDevice.objects.create(user=carol, confirmed=True))
    return {
        "spare": spare.serial_number,
        "tenant": tenant,
        "bobkey": bob_key.access_key_id,
        "admin": api_for(admin),
        "plain": api_for(plain),
        "outsider": api_for(outsider),
    }


def fill(params: dict, world) -> dict:
    return {
        k: v.replace("{bobkey}", world["bobkey"]).replace("{spare}", world["spare"])
        for k, v in params.items()
    }


def state(world) -> tuple:
    account = world["tenant"].account
    account.refresh_from_db()
    keys = tuple(
        AccessKey.objects.filter(user__account=account)
        .order_by("pk")
        .values_list("access_key_id", "status")
    )
    preference = tuple(SecurityPreference.objects.filter(account=account).values_list())
    devices = tuple(
        VirtualMFADevice.objects.filter(account=account)
        .order_by("pk")
        .values_list("name", "user_id")
    )
    totps = TOTPDevice.objects.filter(user__account=account).count()
    preference = (preference, devices, totps)
    return snapshot(world["tenant"]), keys, account.alias, preference


@pytest.mark.parametrize(
    ("action", "params", "names_object"), ACTIONS, ids=lambda a: a if isinstance(a, str) else ""
)
def test_unsigned_request_is_refused(world, action, params, names_object):
    before = state(world)
    query = urlencode({"Action": action, "Version": "2015-05-01", **fill(params, world)})
    response = Client().post("/?" + query)
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"
    assert state(world) == before


@pytest.mark.parametrize(
    ("action", "params", "names_object"), ACTIONS, ids=lambda a: a if isinstance(a, str) else ""
)
def test_other_account_cannot_touch_this_account(world, action, params, names_object):
    before = state(world)
    response = world["outsider"].v1(action, **fill(params, world))
    if names_object:
        assert response.status_code == 404, response.json()
        assert response.json()["Code"].startswith("EntityNotExist")
    assert state(world) == before


@pytest.mark.parametrize(
    ("action", "params", "names_object"), ACTIONS, ids=lambda a: a if isinstance(a, str) else ""
)
def test_key_without_permission_is_refused(world, action, params, names_object):
    before = state(world)
    response = world["plain"].v1(action, **fill(params, world))
    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["Code"] == "NoPermission" and body["RequestId"]
    assert state(world) == before
    assert AuditEvent.objects.filter(outcome="denied", request_id=body["RequestId"]).exists()


@pytest.mark.parametrize(
    ("action", "params", "names_object"), ACTIONS, ids=lambda a: a if isinstance(a, str) else ""
)
def test_permitted_key_succeeds_with_one_audit_event(world, action, params, names_object):
    before = state(world)
    api = world["admin"]
    response = api.v3(action, **fill(params, world))
    assert response.status_code == 200, response.json()
    request_id = response.json()["RequestId"]
    assert state(world) != before
    events = AuditEvent.objects.filter(request_id=request_id)
    assert [e.action for e in events] == [f"ram:{action}"]
    event = events.get()
    assert event.outcome == "success" and event.credential == api.key_id
    assert event.account_id == world["tenant"].account.pk
