"""AccessKeys in the browser: the secret page survives a reload without minting a second key."""

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
