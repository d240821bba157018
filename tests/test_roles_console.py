"""Roles in the console: templates, trust-change confirmation, sessions, revocation."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from roles.models import Role
from sts.models import StsSession
from sts.services import assume_role
from tests.conftest import PASSWORD, principal_for

pytestmark = pytest.mark.django_db


def account_role(tenant, name: str):
    """A role trusting every RAM identity of the tenant's own account."""
    from roles.services import role_create

    document = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{tenant.account.uid}:root"]},
            }
        ],
    }
    return role_create(actor=tenant.root_principal, name=name, trust_policy=json.dumps(document))


def admin_client() -> Client:
    client = Client()
    client.post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    return client


def test_create_from_a_template_with_external_id(tenant, admin):
    client = admin_client()
    response = client.post(
        "/console/roles/new",
        {
            "name": "partner-read",
            "max_session_duration": "3600",
            "trusted_kind": "other_account",
            "trusted_value": "1234567890123456",
            "external_id": "ext-123",
        },
    )
    assert response.status_code == 302
    document = json.loads(Role.objects.get(name="partner-read").trust_policy)
    statement = document["Statement"][0]
    assert statement["Principal"] == {"RAM": ["acs:ram::1234567890123456:root"]}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}
    bad = client.post(
        "/console/roles/new",
        {"name": "x", "max_session_duration": "3600", "trusted_kind": "custom", "document": "{}"},
    )
    assert bad.status_code == 400 and b"Version" in bad.content


def test_changing_the_trusted_entity_needs_confirmation_and_is_audited(tenant, admin):
    client = admin_client()
    client.post(
        "/console/roles/new",
        {"name": "ops", "max_session_duration": "3600", "trusted_kind": "account"},
    )
    role = Role.objects.get(name="ops")
    new = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": ["acs:ram::1111222233334444:root"]},
                }
            ],
        }
    )
    data = {"description": "", "max_session_duration": "3600", "document": new}
    first = client.post("/console/roles/ops/edit", data)
    assert first.status_code == 400 and b"You are changing who may assume this role" in (
        first.content
    )
    role.refresh_from_db()
    assert "1111222233334444" not in role.trust_policy
    client.post("/console/roles/ops/edit", {**data, "confirm_trust_change": "on"})
    role.refresh_from_db()
    assert "1111222233334444" in role.trust_policy
    event = AuditEvent.objects.filter(action="ram:UpdateRole").get()
    assert "1111222233334444" in event.details["after"]["trust_policy"]
    assert tenant.account.uid in event.details["before"]["trust_policy"]


def test_sessions_list_and_revocation(tenant, admin):
    client = admin_client()
    client.post(
        "/console/roles/new",
        {"name": "ci", "max_session_duration": "3600", "trusted_kind": "account"},
    )
    caller = tenant.make_user("bot", "AliyunSTSAssumeRoleAccess", console=False)
    creds = assume_role(
        actor=principal_for(caller),
        role_arn=Role.objects.get(name="ci").arn,
        session_name="build-42",
    )
    page = client.get("/console/roles/ci/")
    assert b"build-42" in page.content and caller.arn.encode() in page.content
    client.post(f"/console/roles/ci/sessions/{creds.session.access_key_id}/revoke")
    assert StsSession.objects.get(pk=creds.session.pk).revoked_at is not None
    assert b"No active sessions" in client.get("/console/roles/ci/").content


def test_plain_user_cannot_manage_roles(tenant, plain, admin):
    Client().post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    admin_client().post(
        "/console/roles/new",
        {"name": "r2", "max_session_duration": "3600", "trusted_kind": "account"},
    )
    client = Client()
    client.post("/console/login", {"login": "plain@acme.iam.localhost", "password": PASSWORD})
    assert client.get("/console/roles/").status_code == 403
    assert (
        client.post(
            "/console/roles/new",
            {"name": "r3", "max_session_duration": "3600", "trusted_kind": "account"},
        ).status_code
        == 403
    )
    assert client.post("/console/roles/r2/sessions/revoke-all").status_code == 403
    assert client.post("/console/roles/r2/delete").status_code == 403
    assert Role.objects.filter(name="r2").exists() and not Role.objects.filter(name="r3").exists()


def test_switch_role_and_back(tenant, admin):
    from policies.services import policy_attach
    from sts.services import revoke_role_sessions
    from tests.conftest import system_policy

    role = account_role(tenant, "auditor-role")
    policy_attach(
        actor=tenant.root_principal, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role
    )
    tenant.make_user("dev", "AliyunSTSAssumeRoleAccess")
    client = Client()
    client.post("/console/login", {"login": "dev@acme.iam.localhost", "password": PASSWORD})
    assert client.get("/console/users/").status_code == 403
    switched = client.post("/console/switch-role", {"role_arn": role.arn, "duration": "900"})
    assert switched.status_code == 302
    page = client.get("/console/users/")
    assert page.status_code == 200 and b"Acting as role" in page.content
    assert (
        client.post("/console/users/new", {"name": "x", "access": "programmatic"}).status_code
        == 403
    )
    assert StsSession.objects.get(role=role).source_arn.endswith(":user/dev")
    client.post("/console/switch-role/back")
    assert client.get("/console/users/").status_code == 403
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"sts:AssumeRole", "console:SwitchRole", "console:SwitchBack"} <= actions
    client.post("/console/switch-role", {"role_arn": role.arn, "duration": "900"})
    revoke_role_sessions(actor=tenant.root_principal, role=role)
    after = client.get("/console/users/", follow=True)
    assert after.status_code == 403  # the revoked session ended the switch at once


def test_switch_role_refused_without_permission(tenant, plain):

    role = account_role(tenant, "locked")
    client = Client()
    client.post("/console/login", {"login": "plain@acme.iam.localhost", "password": PASSWORD})
    response = client.post("/console/switch-role", {"role_arn": role.arn, "duration": "900"})
    assert response.status_code == 400 and b"not authorized" in response.content


def test_role_in_effective_permissions_and_simulator(tenant, admin):
    from policies.services import policy_attach
    from tests.conftest import system_policy

    uid = tenant.account.uid
    role = account_role(tenant, "reader")
    policy_attach(
        actor=tenant.root_principal, policy=system_policy("AliyunRAMReadOnlyAccess"), role=role
    )
    client = admin_client()
    page = client.get("/console/roles/reader/permissions")
    assert page.status_code == 200 and b"AliyunRAMReadOnlyAccess" in page.content
    result = client.post(
        "/console/simulator/",
        {
            "principal": "role/reader",
            "actions": "ram:ListUsers\nram:CreateUser",
            "resource": f"acs:ram:*:{uid}:user/x",
        },
    ).content.decode()
    assert "System policy AliyunRAMReadOnlyAccess (v1), attached directly" in result
    assert "Implicit deny" in result


ROLE_FORM = {"name": "partner", "max_session_duration": "3600"}


def test_trusted_account_uid_must_be_16_digits(tenant, admin):
    response = admin_client().post(
        "/console/roles/new",
        {**ROLE_FORM, "trusted_kind": "other_account", "trusted_value": "12345"},
    )
    assert response.status_code == 200
    assert "16 digits" in response.context["form"].errors["trusted_value"][0]
    assert not Role.objects.filter(name="partner").exists()


def test_trusted_service_must_be_registered(tenant, admin):
    from sts.models import TrustedService

    client = admin_client()
    response = client.post(
        "/console/roles/new",
        {**ROLE_FORM, "trusted_kind": "service", "trusted_value": "fc.example"},
    )
    assert (
        "No service named fc.example is registered"
        in (response.context["form"].errors["trusted_value"][0])
    )
    assert not Role.objects.filter(name="partner").exists()
    TrustedService.objects.create(name="fc.example", access_key_id="LTASfc", secret_sealed="x")
    created = client.post(
        "/console/roles/new",
        {**ROLE_FORM, "trusted_kind": "service", "trusted_value": "fc.example"},
    )
    assert created.status_code == 302
    statement = json.loads(Role.objects.get(name="partner").trust_policy)["Statement"][0]
    assert statement["Principal"] == {"Service": ["fc.example"]}


def test_a_role_with_the_consoles_external_id_can_be_switched_into(tenant, admin):
    client = admin_client()
    client.post(
        "/console/roles/new",
        {**ROLE_FORM, "name": "deputy", "trusted_kind": "account", "external_id": "abc-123"},
    )
    role = Role.objects.get(name="deputy")
    missing = client.post("/console/switch-role", {"role_arn": role.arn, "duration": "900"})
    assert missing.status_code == 400
    assert b"This role requires an ExternalId" in missing.content
    assert b"trust policy doesn" not in missing.content
    wrong = client.post(
        "/console/switch-role",
        {"role_arn": role.arn, "duration": "900", "external_id": "nope-1"},
    )
    assert wrong.status_code == 400 and b"accept the one you entered" in wrong.content
    switched = client.post(
        "/console/switch-role",
        {"role_arn": role.arn, "duration": "900", "external_id": "abc-123"},
    )
    assert switched.status_code == 302
    assert StsSession.objects.filter(role=role).count() == 1
