"""Sign-in gates in Chromium: a new user who must change its password and bind MFA does both,
in that order, and reaches the console; a throttled MFA code is answered as throttled; after a
step-up password the user is told which action to repeat."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def test_a_throttled_enrollment_code_says_so_and_when_to_retry(live_server, page):
    tenant = make_tenant("umbrella")
    user = tenant.make_user("carlos")
    login_profile_set(actor=tenant.root_principal, user=user, mfa_bind_required=True)
    base = live_server.url

    sign_in(page, base, "carlos@umbrella.iam.localhost", PASSWORD)
    page.wait_for_url("**/console/mfa/enroll")
    totp = pyotp.TOTP(page.text_content("#mfa-secret").strip())
    page.fill("#id_code", "000000")
    page.click("button:has-text('Bind device')")
    assert "That code is not right" in page.text_content("[role=alert]")
    # Three wrong codes in a row: django-otp waits 4 s before it checks the next one.
    TOTPDevice.objects.filter(user=user).update(
        throttling_failure_count=3, throttling_failure_timestamp=timezone.now()
    )
    page.fill("#id_code", totp.now())
    page.click("button:has-text('Bind device')")
    alert = page.text_content("[role=alert]")
    assert "throttled" in alert and "Try again in" in alert and "not right" not in alert
    page.screenshot(path=str(ARTIFACTS / "gates-mfa-throttled.png"), full_page=True)

    TOTPDevice.objects.filter(user=user).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=5)
    )
    page.fill("#id_code", totp.now())
    page.click("button:has-text('Bind device')")
    page.wait_for_selector("#recovery-codes")


def test_after_the_step_up_password_the_user_is_told_what_to_repeat(live_server, page):
    tenant = make_tenant("umbrella")
    user = tenant.make_user("leon")
    login_profile_set(actor=tenant.root_principal, user=user, mfa_bind_required=True)
    base = live_server.url
    sign_in(page, base, "leon@umbrella.iam.localhost", PASSWORD)
    page.wait_for_url("**/console/mfa/enroll")
    page.fill("#id_code", pyotp.TOTP(page.text_content("#mfa-secret").strip()).now())
    page.click("button:has-text('Bind device')")
    page.click("text=I saved them")
    page.wait_for_url(f"{base}/console/")

    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    session = SessionStore(session_key=cookies[settings.SESSION_COOKIE_NAME])  # 5 minutes later
    session["reauthenticated_at"] = 0
    session.save()
    page.goto(f"{base}/console/credentials/mfa")
    page.click("button:has-text('Generate new recovery codes')")
    page.wait_for_url("**/console/reauth?**")
    assert "“Generate new recovery codes” needs your password" in page.text_content(
        "#step-up-action"
    )
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(f"{base}/console/credentials/mfa")
    assert page.is_visible("text=Password confirmed — now repeat “Generate new recovery codes”")
    page.screenshot(path=str(ARTIFACTS / "gates-step-up-repeat.png"), full_page=True)
    page.click("button:has-text('Generate new recovery codes')")
    page.wait_for_selector("#recovery-codes")
