"""An administrator's blockers of the console (issue 13): the simulator keeps its input and says
what is wrong with the principal."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, make_tenant

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
