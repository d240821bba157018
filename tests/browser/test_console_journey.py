"""Root creates the administrator; the administrator builds a group and a user; that user is
refused user creation with a readable message. Screenshots land in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, login, password):
    page.goto(f"{base}/console/login")
    page.fill("#id_login", login)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def sign_out(page):
    page.click("text=Sign out")
    page.wait_for_url("**/console/login")


def test_root_admin_user_journey(live_server, page, shoot):
    tenant = make_tenant("acme")
    base = live_server.url

    sign_in(page, base, "root@acme.example", tenant.root_password)
    page.wait_for_url("**/console/welcome")
    shoot("01-root-welcome")
    page.fill("#id_name", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("text=Create administrator")
    page.wait_for_url("**/console/users/admin/")
    assert page.is_visible("text=Administrator admin created")
    assert page.is_visible("text=AdministratorAccess")
    shoot("02-admin-created")
    sign_out(page)

    sign_in(page, base, "admin@acme.iam.localhost", PASSWORD)
    page.wait_for_url(f"{base}/console/")
    page.click("nav >> text=Groups")
    assert page.is_visible("text=No groups yet.")
    page.click("main >> text=Create group")
    page.fill("#id_name", "developers")
    page.fill("#id_comments", "People who build things")
    page.click("button:has-text('Create group')")
    page.wait_for_url("**/console/groups/developers/")
    page.click("text=Attach policy")
    page.fill("input[name=q]", "AliyunRAMReadOnly")
    page.click("button:has-text('Search')")
    page.click("button[aria-label='Attach AliyunRAMReadOnlyAccess']")
    page.wait_for_url("**/console/groups/developers/")
    assert page.is_visible("text=AliyunRAMReadOnlyAccess attached to developers")
    shoot("03-group-with-policy")

    page.click("nav >> text=Users")
    page.click("main >> text=Create user")
    page.fill("#id_name", "dev1")
    page.fill("#id_display_name", "Dev One")
    page.check("input[name=access][value=both]")
    assert page.is_visible("#mixed-access-warning")
    page.check("input[name=access][value=console]")
    assert not page.is_visible("#mixed-access-warning")
    page.fill("#id_password", PASSWORD)
    page.uncheck("#id_password_reset_required")
    shoot("04-create-user")
    page.click("button:has-text('Create user')")
    page.wait_for_url("**/console/users/dev1/")
    page.select_option("select[name=group]", "developers")
    page.click("button:has-text('Add to group')")
    assert page.is_visible("text=dev1 added to developers")
    shoot("05-user-in-group")
    sign_out(page)

    sign_in(page, base, "dev1@acme.iam.localhost", PASSWORD)
    page.wait_for_url(f"{base}/console/")
    page.click("nav >> text=Users")
    page.click("main >> text=Create user")
    heading = page.text_content("h1")
    assert heading == "You are not authorized to do this"
    message = page.text_content("[role=alert]")
    assert "not authorized" in message and "ram:CreateUser" in message
    shoot("06-refused")


def test_destructive_actions_ask_for_confirmation(live_server, page, shoot):
    tenant = make_tenant("initech")
    tenant.make_user("admin", "AdministratorAccess")
    tenant.make_user("temp")
    sign_in(page, live_server.url, "admin@initech.iam.localhost", PASSWORD)
    page.wait_for_url(f"{live_server.url}/console/")
    page.goto(f"{live_server.url}/console/users/temp/")
    page.click("text=Delete user")
    assert page.is_visible("text=Delete user temp?")
    shoot("07-confirm-delete")
    page.click("text=Cancel")
    page.wait_for_url("**/console/users/temp/")
    page.click("text=Delete user")
    page.click("button:has-text('Delete user')")
    page.wait_for_url("**/console/users/")
    assert page.is_visible("text=User temp deleted.")


def test_access_key_reveal_copy_and_download(live_server, browser, shoot):
    from accounts.models import AccessKey, User

    tenant = make_tenant("umbrella")
    tenant.make_user("admin", "AdministratorAccess")
    robot = tenant.make_user("ci-bot", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server.url, "admin@umbrella.iam.localhost", PASSWORD)
    page.wait_for_url(f"{live_server.url}/console/")
    page.goto(f"{live_server.url}/console/users/ci-bot/")
    page.click("text=Create AccessKey")
    page.click("button:has-text('Create AccessKey')")
    page.wait_for_selector("#secret-panel")
    key = AccessKey.objects.get(user=robot)
    secret = page.text_content("#key-secret")
    assert page.text_content("#key-id") == key.access_key_id
    page.click("[data-copy=key-secret]")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    with page.expect_download() as download_info:
        page.click("#download-csv")
    with open(download_info.value.path()) as downloaded:
        csv = downloaded.read()
    assert csv == f"AccessKey ID,AccessKey Secret\n{key.access_key_id},{secret}\n"
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + secret in page.text_content("#key-env")
    page.screenshot(path=str(ARTIFACTS / "08-key-reveal.png"), full_page=True)
    page.click("text=Done")
    page.wait_for_url("**/console/users/ci-bot/")
    assert key.access_key_id in page.content() and secret not in page.content()
    context.close()
