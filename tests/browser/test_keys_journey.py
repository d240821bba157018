"""AccessKeys in the browser: the secret page survives a reload without minting a second key; a
key used only for a denied call shows when it was last used; hints keep their <placeholders>."""

from __future__ import annotations

import pytest

from tests.browser.test_console_journey import sign_in
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reloading_the_secret_page_creates_no_second_key(live_server, page, shoot):
    from accounts.models import AccessKey, User

    tenant = make_tenant("initech")
    tenant.make_user("admin", "AdministratorAccess")
    robot = tenant.make_user("ci-bot", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    sign_in(page, live_server.url, "admin@initech.iam.localhost", PASSWORD)
    page.wait_for_url(f"{live_server.url}/console/")
    page.goto(f"{live_server.url}/console/users/ci-bot/")
    page.click("text=Create AccessKey")
    page.click("button:has-text('Create AccessKey')")
    page.wait_for_selector("#secret-panel")
    secret = page.text_content("#key-secret")
    assert secret and AccessKey.objects.filter(user=robot).count() == 1

    page.reload()
    page.wait_for_selector("#secret-gone")
    shoot("keys-01-reloaded-reveal")
    assert AccessKey.objects.filter(user=robot).count() == 1
    assert page.is_visible("text=The secret was shown once")
    assert secret not in page.content()
    assert page.text_content("#key-id") == AccessKey.objects.get(user=robot).access_key_id


def test_a_key_used_only_for_a_denied_call_shows_its_last_use(live_server, page):
    from accounts.models import AccessKey, User
    from tests.openapi.conftest import Api

    tenant = make_tenant("hooli")
    tenant.make_user("admin", "AdministratorAccess")
    robot = tenant.make_user("ci-bot", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    sign_in(page, live_server.url, "admin@hooli.iam.localhost", PASSWORD)
    page.wait_for_url(f"{live_server.url}/console/")
    page.goto(f"{live_server.url}/console/users/ci-bot/access-keys/new")
    page.click("button:has-text('Create AccessKey')")
    page.wait_for_selector("#secret-panel")
    key_id = page.text_content("#key-id")
    assert Api(key_id, page.text_content("#key-secret")).v1("ListUsers").status_code == 403
    used = AccessKey.objects.get(access_key_id=key_id).last_used_at
    assert used is not None
    page.goto(f"{live_server.url}/console/users/ci-bot/access-keys/{key_id}/delete")
    assert page.is_visible(f"text=Last used {used:%Y-%m-%d %H:%M} UTC")
    assert not page.is_visible("text=never been used")


def test_hints_keep_their_placeholders(live_server, page):
    tenant = make_tenant("pied")
    tenant.make_user("admin", "AdministratorAccess")
    sign_in(page, live_server.url, "admin@pied.iam.localhost", PASSWORD)
    page.wait_for_url(f"{live_server.url}/console/")
    page.goto(f"{live_server.url}/console/switch-role")
    assert "acs:ram::<account uid>:role/<role name>" in page.inner_text("main")
    page.goto(f"{live_server.url}/console/simulator/")
    assert "role/<role name> for a role's session" in page.inner_text("main")
    assert "acs:ram:*:<uid>:user/alice" in page.inner_text("main")
    page.goto(f"{live_server.url}/console/security/")
    assert "name@<account uid>.<domain>" in page.inner_text("main")
    page.goto(f"{live_server.url}/console/sso/")
    assert "name@pied.iam.localhost-style" in page.inner_text("main")
