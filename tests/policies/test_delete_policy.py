"""DeletePolicy never silently takes a grant away: an attached policy is refused with
DeleteConflict.Policy.{User,Group,Role}, unless the caller asks for CascadingDelete, which
detaches it everywhere and deletes its versions in one transaction, each step audited."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import Account, User
from audit.models import AuditEvent
from policies.models import Policy, PolicyAttachment, PolicyVersion
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

DOCUMENT = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"}]}
)


def trust(uid: str) -> str:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{uid}:root"]},
    }
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.fixture
def root_api(tenant, api_for):
    return api_for(tenant.root)


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def p1_on_role(root_api, tenant):
    ok(root_api.v1("CreatePolicy", PolicyName="p1", PolicyDocument=DOCUMENT))
    ok(root_api.v1("CreateRole", RoleName="r1", AssumeRolePolicyDocument=trust(tenant.account.uid)))
    ok(root_api.v1("AttachPolicyToRole", PolicyType="Custom", PolicyName="p1", RoleName="r1"))


def role_policies(api) -> list[str]:
    listed = ok(api.v1("ListPoliciesForRole", RoleName="r1"))
    return [p["PolicyName"] for p in listed["Policies"]["Policy"]]


def test_a_policy_attached_only_to_a_role_is_not_deleted(root_api, p1_on_role):
    response = root_api.v1("DeletePolicy", PolicyName="p1")
    assert response.status_code == 409
    assert response.json()["Code"] == "DeleteConflict.Policy.Role"
    assert "r1" in response.json()["Message"]
    assert role_policies(root_api) == ["p1"]


@pytest.mark.parametrize(
    ("attach", "code"),
    [
        (("AttachPolicyToUser", "UserName", "u1"), "DeleteConflict.Policy.User"),
        (("AttachPolicyToGroup", "GroupName", "g1"), "DeleteConflict.Policy.Group"),
    ],
)
def test_users_and_groups_are_still_refused(root_api, attach, code):
    ok(root_api.v1("CreatePolicy", PolicyName="p1", PolicyDocument=DOCUMENT))
    ok(root_api.v1("CreateUser", UserName="u1"))
    ok(root_api.v1("CreateGroup", GroupName="g1"))
    action, param, name = attach
    ok(root_api.v1(action, PolicyType="Custom", PolicyName="p1", **{param: name}))
    response = root_api.v1("DeletePolicy", PolicyName="p1", CascadingDelete="false")
    assert (response.status_code, response.json()["Code"]) == (409, code)


def test_non_default_versions_are_refused_without_cascade(root_api):
    ok(root_api.v1("CreatePolicy", PolicyName="p1", PolicyDocument=DOCUMENT))
    ok(root_api.v1("CreatePolicyVersion", PolicyName="p1", PolicyDocument=DOCUMENT))
    response = root_api.v1("DeletePolicy", PolicyName="p1")
    assert (response.status_code, response.json()["Code"]) == (409, "DeleteConflict.Policy.Version")


def test_cascading_delete_detaches_everywhere_in_one_audited_change(root_api, tenant, p1_on_role):
    ok(root_api.v1("CreateUser", UserName="u1"))
    ok(root_api.v1("CreateGroup", GroupName="g1"))
    ok(root_api.v1("AttachPolicyToUser", PolicyType="Custom", PolicyName="p1", UserName="u1"))
    ok(root_api.v1("AttachPolicyToGroup", PolicyType="Custom", PolicyName="p1", GroupName="g1"))
    ok(root_api.v1("CreatePolicyVersion", PolicyName="p1", PolicyDocument=DOCUMENT))
    version = Account.objects.get(pk=tenant.account.pk).authz_version

    ok(root_api.v1("DeletePolicy", PolicyName="p1", CascadingDelete="true"))

    assert not Policy.objects.filter(account=tenant.account, name="p1").exists()
    assert not PolicyVersion.objects.filter(policy__account=tenant.account).exists()
    assert not PolicyAttachment.objects.filter(account=tenant.account).exists()
    assert Account.objects.get(pk=tenant.account.pk).authz_version > version
    events = AuditEvent.objects.filter(account=tenant.account).order_by("-id")[:4]
    assert sorted(e.action for e in events) == [
        "ram:DeletePolicy",
        "ram:DetachPolicyFromGroup",
        "ram:DetachPolicyFromRole",
        "ram:DetachPolicyFromUser",
    ]
    deleted = next(e for e in events if e.action == "ram:DeletePolicy")
    assert deleted.details["cascade"] is True
    assert deleted.details["versions"] == ["v1", "v2"]
    assert role_policies(root_api) == []


def test_cascading_delete_needs_the_detach_permissions_too(tenant, api_for, root_api, p1_on_role):
    may_delete = {"Effect": "Allow", "Action": "ram:DeletePolicy", "Resource": "*"}
    document = json.dumps({"Version": "1", "Statement": [may_delete]})
    ok(root_api.v1("CreatePolicy", PolicyName="may-delete", PolicyDocument=document))
    ok(root_api.v1("CreateUser", UserName="narrow"))
    ok(
        root_api.v1(
            "AttachPolicyToUser", PolicyType="Custom", PolicyName="may-delete", UserName="narrow"
        )
    )
    narrow = User.objects.get(account=tenant.account, name="narrow")
    User.objects.filter(pk=narrow.pk).update(programmatic_access=True)
    response = api_for(narrow).v1("DeletePolicy", PolicyName="p1", CascadingDelete="true")
    assert response.status_code == 403, response.content
    assert role_policies(root_api) == ["p1"]


def admin_client() -> Client:
    client = Client()
    client.post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    return client


def test_console_refuses_an_attached_policy_and_says_why(admin, root_api, p1_on_role):
    client = admin_client()
    page = client.get("/console/policies/Custom/p1/delete")
    assert b"r1" in page.content  # the confirmation names where it is attached
    response = client.post("/console/policies/Custom/p1/delete", follow=True)
    assert b"DeleteConflict" not in response.content
    assert b"roles (r1)" in response.content
    assert b'href="/console/roles/r1/"' in response.content  # the detail page lists roles too
    assert role_policies(root_api) == ["p1"]


def test_console_cascading_delete_detaches_it_everywhere(admin, root_api, p1_on_role):
    client = admin_client()
    response = client.post("/console/policies/Custom/p1/delete", {"cascade": "on"})
    assert response.status_code == 302
    assert role_policies(root_api) == []
    assert not Policy.objects.filter(name="p1").exists()
