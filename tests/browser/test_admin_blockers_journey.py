"""An administrator's blockers of the console (issue 13): the simulator keeps its input and says
what is wrong with the principal; role creation refuses trust it can't honour and a role with an
ExternalId can be switched into; ending sessions asks first."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore

from accounts.models import ConsoleSession, User
from accounts.sessions import console_session_start
from policies.principal import RequestMeta
from roles.services import role_create
from sts.models import StsSession
from sts.services import assume_role
from tests.conftest import PASSWORD, make_tenant, principal_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_admin(page, base):
    tenant = make_tenant("acme")
    admin = tenant.make_user("admin", "AdministratorAccess")
    page.goto(f"{base}/console/login")
    page.fill("#id_login", "admin@acme.iam.localhost")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    return tenant, admin


def test_simulator_shows_principal_errors_in_the_form(live_server, page, shoot):
    base = live_server.url
    sign_in_admin(page, base)

    page.goto(f"{base}/console/simulator/")
    page.fill("#id_principal", "nobody")
    page.fill("#id_actions", "ram:ListUsers")
    page.fill("#id_resource", "acs:ram:*:123:user/x")
    page.click("button:has-text('Simulate')")
    assert page.is_visible("text=Policy simulator")
    assert page.is_visible("text=There is no user nobody")
    assert page.input_value("#id_principal") == "nobody"
    assert page.input_value("#id_actions") == "ram:ListUsers"
    assert page.input_value("#id_resource") == "acs:ram:*:123:user/x"
    shoot("blockers-01-simulator-unknown-user")

    page.fill("#id_principal", "role/ghost")
    page.click("button:has-text('Simulate')")
    assert page.is_visible("text=There is no role ghost")
    assert page.input_value("#id_principal") == "role/ghost"
    assert page.input_value("#id_actions") == "ram:ListUsers"

    page.fill("#id_principal", "admin")
    page.fill("#id_resource", "")
    page.click("button:has-text('Simulate')")
    assert page.is_visible("#results >> text=Allow")


def test_role_creation_validates_trust_and_external_id_roles_can_be_switched_into(
    live_server, page, shoot
):
    base = live_server.url
    tenant, _ = sign_in_admin(page, base)

    page.goto(f"{base}/console/roles/new")
    page.fill("#id_name", "partner")
    page.check("input[name=trusted_kind][value=other_account]")
    page.fill("#id_trusted_value", "12345")
    page.click("button[type=submit]:has-text('Create')")
    assert page.is_visible("text=An account uid is 16 digits")
    assert page.input_value("#id_trusted_value") == "12345"
    shoot("blockers-02-role-bad-uid")

    page.check("input[name=trusted_kind][value=service]")
    page.fill("#id_trusted_value", "no-such-service")
    page.click("button[type=submit]:has-text('Create')")
    assert page.is_visible("text=No service named no-such-service is registered")

    page.check("input[name=trusted_kind][value=account]")
    page.fill("#id_trusted_value", "")
    page.fill("#id_name", "deputy")
    page.fill("#id_external_id", "abc-123")
    page.click("button[type=submit]:has-text('Create')")
    page.wait_for_url("**/console/roles/deputy/")

    arn = f"acs:ram::{tenant.account.uid}:role/deputy"
    page.goto(f"{base}/console/switch-role")
    page.fill("#id_role_arn", arn)
    page.click("button:has-text('Switch role')")
    assert page.is_visible("text=ExternalId")
    assert not page.is_visible("text=trust policy doesn't trust you")
    shoot("blockers-03-switch-needs-external-id")

    page.fill("#id_external_id", "abc-123")
    page.click("button:has-text('Switch role')")
    page.wait_for_url(f"{base}/console/")
    assert page.is_visible("text=You are now acting as role deputy")
    assert StsSession.objects.filter(role__name="deputy").count() == 1


def test_ending_sessions_asks_first(live_server, page, shoot):
    base = live_server.url
    tenant, admin = sign_in_admin(page, base)
    bob = tenant.make_user("bob")
    store = SessionStore()
    store.create()
    bob_row = console_session_start(store, bob, mfa=False, meta=RequestMeta())
    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        f'"Principal":{{"RAM":["acs:ram::{tenant.account.uid}:root"]}}}}]}}'
    )
    role_create(actor=tenant.root_principal, name="ops-role", trust_policy=trust)
    credentials = assume_role(
        actor=principal_for(User.objects.get(pk=admin.pk)),
        role_arn=f"acs:ram::{tenant.account.uid}:role/ops-role",
        session_name="ops",
    )
    key = credentials.session.access_key_id

    page.goto(f"{base}/console/audit/sessions/")
    page.click(f"a[href$='/console/{bob_row.public_id}/end']")
    assert page.is_visible("text=End the console session of bob?")
    assert ConsoleSession.objects.get(pk=bob_row.pk).ended_at is None
    shoot("blockers-04-terminate-confirm")
    page.click("text=Cancel")
    page.wait_for_url("**/console/audit/sessions/")
    assert ConsoleSession.objects.get(pk=bob_row.pk).ended_at is None
    page.click(f"a[href$='/console/{bob_row.public_id}/end']")
    page.click("button:has-text('Terminate session')")
    page.wait_for_url("**/console/audit/sessions/")
    assert page.is_visible("text=Session of bob ended")
    assert ConsoleSession.objects.get(pk=bob_row.pk).ended_at is not None

    page.click(f"a[href$='/sts/{key}/revoke']")
    assert page.is_visible("text=Revoke role session ops-role/ops?")
    assert StsSession.objects.get(access_key_id=key).revoked_at is None
    page.click("button:has-text('Revoke session')")
    page.wait_for_url("**/console/audit/sessions/")
    assert page.is_visible("text=Role session ops revoked")
    assert StsSession.objects.get(access_key_id=key).revoked_at is not None
