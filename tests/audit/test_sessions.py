"""Console sessions are tracked from sign-in, listed for operators and ended on request; a
lockdown cuts every way in at once."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.access_keys import access_key_create
from accounts.models import AccessKey, ConsoleSession, User
from audit.models import AuditEvent
from policies.services import policy_attach
from roles.services import role_create
from sts.models import StsSession
from sts.selectors import sts_record
from sts.services import assume_role
from tests.conftest import PASSWORD, principal_for, system_policy
from tests.openapi.conftest import Api
from tests.test_view_matrix import client_for

pytestmark = pytest.mark.django_db


def sign_in(login: str, password: str = PASSWORD) -> Client:
    client = Client(HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="198.51.100.7")
    response = client.post("/console/login", {"login": login, "password": password})
    assert response.status_code == 302 and response["Location"] == "/console/", response.content
    return client


def test_sign_in_starts_a_tracked_session_named_in_events(tenant, admin):
    client = sign_in("admin@acme.iam.localhost")
    row = ConsoleSession.objects.get(user=admin)
    assert (row.source_ip, row.user_agent, row.mfa) == ("198.51.100.7", "Firefox/140", False)
    assert row.public_id.startswith("cs-") and row.ended_at is None
    client.post("/console/groups/new", {"name": "ops", "comments": ""})
    event = AuditEvent.objects.get(action="ram:CreateGroup")
    assert event.credential == f"console-session:{row.public_id}"
    started = AuditEvent.objects.get(action="console:StartSession")
    assert started.details == {"session": row.public_id, "mfa": False}


def test_sessions_page_lists_and_terminates(tenant, admin):
    bob = tenant.make_user("bob")
    victim = sign_in("bob@acme.iam.localhost")
    assert victim.get("/console/").status_code == 200
    operator = client_for(admin)
    page = operator.get("/console/audit/sessions/").content.decode()
    row = ConsoleSession.objects.get(user=bob)
    assert row.public_id in page and "198.51.100.7" in page and "Firefox/140" in page
    response = operator.post(f"/console/audit/sessions/console/{row.public_id}/end")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.ended_reason == "terminated"
    after = victim.get("/console/")
    assert after.status_code == 302 and after["Location"].startswith("/console/login")
    assert victim.get("/console/").status_code == 302  # and stays signed out
    event = AuditEvent.objects.get(action="ram:TerminateConsoleSession")
    assert event.target_arn == bob.arn and event.details["session"] == row.public_id
    assert row.public_id not in operator.get("/console/audit/sessions/").content.decode()


def test_logout_ends_the_row(tenant, admin):
    client = sign_in("admin@acme.iam.localhost")
    client.post("/console/logout")
    assert ConsoleSession.objects.get(user=admin).ended_reason == "logout"


def test_another_accounts_session_is_not_found(tenant, other_tenant, outsider):
    tenant.make_user("bob")
    sign_in("bob@acme.iam.localhost")
    row = ConsoleSession.objects.get()
    response = client_for(outsider).post(f"/console/audit/sessions/console/{row.public_id}/end")
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.ended_at is None
    assert (
        row.public_id not in client_for(outsider).get("/console/audit/sessions/").content.decode()
    )


def test_lockdown_cuts_every_way_in(tenant, admin):
    bob = tenant.make_user("bob", "AliyunSTSAssumeRoleAccess", "ReadOnlyAccess")
    User.objects.filter(pk=bob.pk).update(programmatic_access=True)
    bob = User.objects.get(pk=bob.pk)
    root = tenant.root_principal
    key, secret = access_key_create(actor=root, user=bob)
    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        f'"Principal":{{"RAM":["acs:ram::{tenant.account.uid}:root"]}}}}]}}'
    )
    role = role_create(actor=root, name="ops", trust_policy=trust)
    policy_attach(actor=root, policy=system_policy("AliyunSTSAssumeRoleAccess"), role=role)
    arn = f"acs:ram::{tenant.account.uid}:role/ops"
    first = assume_role(actor=principal_for(bob), role_arn=arn, session_name="bob")
    hop = sts_record(first.session.access_key_id).principal(principal_for(bob).meta)
    chained = assume_role(actor=hop, role_arn=arn, session_name="hop")
    victim = sign_in("bob@acme.iam.localhost")

    operator = client_for(admin)
    assert operator.get("/console/audit/users/bob/lockdown").status_code == 200
    refused = operator.post("/console/audit/users/bob/lockdown", {"reason": ""})
    assert refused.status_code == 400 and User.objects.get(pk=bob.pk).console_access
    response = operator.post("/console/audit/users/bob/lockdown", {"reason": "laptop stolen"})
    assert response.status_code == 302

    bob = User.objects.get(pk=bob.pk)
    assert not bob.console_access and bob.lockdown_reason == "laptop stolen"
    assert victim.get("/console/").status_code == 302
    assert AccessKey.objects.get(pk=key.pk).status == "Inactive"
    assert all(
        s.revoked_at is not None
        for s in StsSession.objects.filter(pk__in=[first.session.pk, chained.session.pk])
    )
    refused_api = Api(key.access_key_id, secret).v3("GetUser", UserName="bob")
    assert refused_api.json()["Code"] == "InvalidAccessKeyId.Inactive"
    assert (
        Client()
        .post("/console/login", {"login": "bob@acme.iam.localhost", "password": PASSWORD})
        .status_code
        == 401
    )  # refused with the generic message
    event = AuditEvent.objects.get(action="ram:LockdownUser")
    assert event.details["reason"] == "laptop stolen"
    assert event.details["deactivated_keys"] == [key.access_key_id]
    assert len(event.details["revoked_sts_keys"]) == 2 and len(event.details["ended_sessions"]) == 1
    page = operator.get("/console/users/bob/").content.decode()
    assert "Locked down" in page and "laptop stolen" in page


def test_root_can_not_be_locked_down(tenant, admin):
    assert (
        client_for(admin)
        .post("/console/audit/users/root/lockdown", {"reason": "x" * 5})
        .status_code
        == 404
    )


def test_terminate_and_revoke_ask_first(tenant, admin, plain, outsider):
    """GET shows a confirmation page and changes nothing; only the POST ends the session."""
    bob = tenant.make_user("bob")
    sign_in("bob@acme.iam.localhost")
    row = ConsoleSession.objects.get(user=bob)
    role = role_create(
        actor=tenant.root_principal,
        name="ops-role",
        trust_policy='{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        f'"Principal":{{"RAM":["acs:ram::{tenant.account.uid}:root"]}}}}]}}',
    )
    key = assume_role(actor=principal_for(admin), role_arn=role.arn, session_name="ops")
    key_id = key.session.access_key_id
    end_url = f"/console/audit/sessions/console/{row.public_id}/end"
    revoke_url = f"/console/audit/sessions/sts/{key_id}/revoke"
    operator = client_for(admin)
    listing = operator.get("/console/audit/sessions/").content.decode()
    assert f'href="{end_url}"' in listing and f'href="{revoke_url}"' in listing
    page = operator.get(end_url)
    assert page.status_code == 200 and b"End the console session of bob?" in page.content
    assert b"Terminate session" in page.content
    page = operator.get(revoke_url)
    assert page.status_code == 200 and b"Revoke role session ops-role/ops?" in page.content
    assert client_for(plain).get(end_url).status_code == 403
    assert client_for(plain).get(revoke_url).status_code == 403
    assert client_for(outsider).get(end_url).status_code == 404
    assert client_for(outsider).get(revoke_url).status_code == 404
    row.refresh_from_db()
    assert row.ended_at is None
    assert StsSession.objects.get(access_key_id=key_id).revoked_at is None
    assert not AuditEvent.objects.filter(
        action__in=["ram:TerminateConsoleSession", "sts:RevokeSession"], outcome="success"
    ).exists()
    assert operator.post(end_url)["Location"] == "/console/audit/sessions/"
    assert operator.post(revoke_url)["Location"] == "/console/audit/sessions/"
    row.refresh_from_db()
    assert row.ended_reason == "terminated"
    assert StsSession.objects.get(access_key_id=key_id).revoked_at is not None
