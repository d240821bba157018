"""A user whose login profile requires MFA binds a device in Chromium, then signs in with a
TOTP code and with a recovery code; a wrong code gets a clear message."""

from __future__ import annotations

import time

import pyotp
import pytest

from accounts.services import login_profile_set
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base):
    page.goto(f"{base}/console/login")
    page.fill("#id_login", "mallory@initrode.iam.localhost")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_mfa_enrollment_and_sign_in(live_server, browser):
    tenant = make_tenant("initrode")
    user = tenant.make_user("mallory")
    login_profile_set(actor=tenant.root_principal, user=user, mfa_bind_required=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url

    sign_in(page, base)
    page.wait_for_url("**/console/mfa/enroll")
    page.goto(f"{base}/console/users/")  # nothing else is reachable until a device is bound
    page.wait_for_url("**/console/mfa/enroll")
    assert page.is_visible("#mfa-qr svg")
    totp = pyotp.TOTP(page.text_content("#mfa-secret").strip())
    page.screenshot(path=str(ARTIFACTS / "09-mfa-enroll.png"), full_page=True)
    page.fill("#id_code", "000000")
    page.click("button:has-text('Bind device')")
    assert "That code is not right" in page.text_content("[role=alert]")
    time.sleep(1.1)  # django-otp's throttle: the next attempt waits a second
    page.fill("#id_code", totp.now())
    page.click("button:has-text('Bind device')")
    page.wait_for_selector("#recovery-codes")
    codes = page.text_content("#recovery-codes").split()
    assert len(codes) == 10
    with page.expect_download() as download:
        page.click("#download-codes")
    with open(download.value.path()) as saved:
        assert saved.read().split() == codes
    page.screenshot(path=str(ARTIFACTS / "10-recovery-codes.png"), full_page=True)
    page.click("text=I saved them")
    page.wait_for_url(f"{base}/console/")
    page.click("text=Sign out")
    page.wait_for_url("**/console/login")

    sign_in(page, base)
    page.wait_for_url("**/console/login/mfa")
    page.fill("#id_code", "123456")
    page.click("button:has-text('Verify')")
    assert "That code is not right" in page.text_content("[role=alert]")
    page.screenshot(path=str(ARTIFACTS / "11-mfa-wrong-code.png"), full_page=True)
    time.sleep(1.1)
    page.fill("#id_code", totp.at(time.time() + 30))  # a step not used at enrollment
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{base}/console/")
    assert page.is_visible("text=MFA ✓")
    page.click("text=Sign out")
    page.wait_for_url("**/console/login")

    sign_in(page, base)
    page.wait_for_url("**/console/login/mfa")
    page.fill("#id_code", codes[0])
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{base}/console/")
    page.goto(f"{base}/console/credentials/mfa")
    assert page.text_content("#codes-left") == "9"
    context.close()
