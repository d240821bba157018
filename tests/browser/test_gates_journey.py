"""Sign-in gates in Chromium: a new user who must change its password and bind MFA does both,
in that order, and reaches the console; step-up says what to repeat after the password."""

from __future__ import annotations

import time

import pyotp
import pytest

from accounts.services import login_profile_set
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "a brand new passphrase 77 for the console"


def sign_in(page, base, login, password):
    page.goto(f"{base}/console/login")
    page.fill("#id_login", login)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_new_user_changes_password_then_binds_mfa_then_reaches_the_console(live_server, page):
    tenant = make_tenant("umbrella")
    user = tenant.make_user("jill")
    login_profile_set(
        actor=tenant.root_principal,
        user=user,
        password_reset_required=True,
        mfa_bind_required=True,
    )
    base = live_server.url

    sign_in(page, base, "jill@umbrella.iam.localhost", PASSWORD)
    page.wait_for_url("**/console/password")
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password", NEW_PASSWORD)
    page.fill("#id_confirm_password", NEW_PASSWORD)
    page.click("button:has-text('Change password')")

    page.wait_for_url("**/console/mfa/enroll")
    page.goto(f"{base}/console/users/")  # nothing else is reachable until a device is bound
    page.wait_for_url("**/console/mfa/enroll")
    totp = pyotp.TOTP(page.text_content("#mfa-secret").strip())
    page.fill("#id_code", totp.now())
    page.click("button:has-text('Bind device')")
    page.wait_for_selector("#recovery-codes")
    page.click("text=I saved them")
    page.wait_for_url(f"{base}/console/")
    assert page.is_visible("text=MFA ✓")
    page.screenshot(path=str(ARTIFACTS / "gates-console-reached.png"), full_page=True)

    page.click("text=Sign out")  # the new password and the bound device sign in from now on
    page.wait_for_url("**/console/login")
    sign_in(page, base, "jill@umbrella.iam.localhost", NEW_PASSWORD)
    page.wait_for_url("**/console/login/mfa")
    page.fill("#id_code", totp.at(time.time() + 30))
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{base}/console/")
