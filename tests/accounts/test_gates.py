"""Sign-in gates: a user who must change its password and bind MFA does both, password first,
and neither gate sends it away from the page the other one needs; a throttled MFA code is
answered as throttled, with the time to retry; after a step-up password the user is told which
action to repeat."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.preferences import security_preference_set
from accounts.services import login_profile_set
from tests.accounts.test_mfa import (
    away_from_a_step_boundary,
    enroll,
    next_code,
    sign_in,
    wait_out_throttle,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase 77 for the console"


def enroll_secret(page) -> str:
    return re.search(rb'id="mfa-secret"[^>]*>([A-Z2-7]+)<', page.content).group(1).decode()


@pytest.fixture(params=["user flag", "account preference"])
def gated_user(request, tenant):
    user = tenant.make_user("jill")
    if request.param == "user flag":
        login_profile_set(
            actor=tenant.root_principal,
            user=user,
            password_reset_required=True,
            mfa_bind_required=True,
        )
    else:
        login_profile_set(actor=tenant.root_principal, user=user, password_reset_required=True)
        security_preference_set(actor=tenant.root_principal, mfa_requirement="all")
    return user


def test_password_gate_first_then_mfa_gate_then_the_console(client: Client, gated_user):
    response = client.post(
        "/console/login", {"login": "jill@acme.iam.localhost", "password": PASSWORD}
    )
    assert response.url == "/console/password"
    assert client.get("/console/mfa/enroll").url == "/console/password"  # waits for the password
    assert client.get("/console/").url == "/console/password"
    assert client.get("/console/password").status_code == 200

    changed = client.post(
        "/console/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert client.get("/console/").url == "/console/mfa/enroll"
    assert client.get("/console/password").url == "/console/mfa/enroll"

    page = client.get("/console/mfa/enroll")
    assert page.status_code == 200
    totp = pyotp.TOTP(enroll_secret(page))
    away_from_a_step_boundary()
    assert client.post("/console/mfa/enroll", {"code": totp.now()}).status_code == 200
    assert client.get("/console/").status_code == 200


# --- a code sent while django-otp throttles is answered as throttled, not as wrong ------------


def throttle_for_seconds(user, seconds: int) -> None:
    """Pretend more wrong codes were sent just now: django-otp waits 2**(n-1) s after n."""
    count = seconds.bit_length()
    TOTPDevice.objects.filter(user=user).update(
        throttling_failure_count=count, throttling_failure_timestamp=timezone.now()
    )


def test_enrollment_says_a_code_is_throttled_and_when_to_retry(client: Client, tenant):
    user = tenant.make_user("alice")
    sign_in(client)
    totp = pyotp.TOTP(enroll_secret(client.get("/console/mfa/enroll")))
    wrong = client.post("/console/mfa/enroll", {"code": "000000"})
    assert b"That code is not right" in wrong.content
    throttle_for_seconds(user, 8)

    throttled = client.post("/console/mfa/enroll", {"code": totp.now()})
    assert throttled.status_code == 400
    assert b"throttled" in throttled.content and b"Try again in 8 seconds" in throttled.content
    assert b"That code is not right" not in throttled.content

    wait_out_throttle(user)
    away_from_a_step_boundary()
    assert (
        b'id="recovery-codes"' in client.post("/console/mfa/enroll", {"code": totp.now()}).content
    )


def test_sign_in_mfa_step_says_a_code_is_throttled_and_when_to_retry(client: Client, tenant):
    user = tenant.make_user("alice")
    sign_in(client)
    totp, _ = enroll(client)
    client.post("/console/logout")
    sign_in(client)
    assert b"not right" in client.post("/console/login/mfa", {"code": "000000"}).content
    throttle_for_seconds(user, 4)

    throttled = client.post("/console/login/mfa", {"code": next_code(totp)})
    assert throttled.status_code == 401
    assert b"throttled" in throttled.content and b"Try again in 4 seconds" in throttled.content

    wait_out_throttle(user)
    assert client.post("/console/login/mfa", {"code": next_code(totp)}).url == "/console/"


# --- after the step-up password, the user is told what to repeat (a POST is never replayed) ---


def expire_step_up(client: Client) -> None:
    session = client.session
    session["reauthenticated_at"] = 0
    session.save()


def test_a_form_sent_before_step_up_is_named_to_repeat_on_its_page(client: Client, tenant):
    tenant.make_user("alice")
    sign_in(client)
    enroll(client)
    expire_step_up(client)
    codes_before = set(StaticToken.objects.values_list("token", flat=True))

    sent = client.post(
        "/console/credentials/mfa/recovery-codes",
        HTTP_REFERER="http://testserver/console/credentials/mfa",
    )
    assert sent.url == "/console/reauth?next=%2Fconsole%2Fcredentials%2Fmfa"
    asked = client.get(sent.url)
    assert "“Generate new recovery codes” needs your password again" in asked.content.decode()
    assert b"It was not carried out" in asked.content

    confirmed = client.post(sent.url, {"password": PASSWORD, "next": "/console/credentials/mfa"})
    assert confirmed.url == "/console/credentials/mfa"
    page = client.get(confirmed.url)
    assert page.status_code == 200
    assert "Password confirmed — now repeat “Generate new recovery codes”" in page.content.decode()
    assert set(StaticToken.objects.values_list("token", flat=True)) == codes_before  # not replayed


def test_a_page_opened_before_step_up_is_returned_to(client: Client, tenant):
    tenant.make_user("alice")
    sign_in(client)
    enroll(client)
    expire_step_up(client)

    opened = client.get("/console/credentials/mfa/remove")
    assert opened.url == "/console/reauth?next=%2Fconsole%2Fcredentials%2Fmfa%2Fremove"
    confirmed = client.post(opened.url, {"password": PASSWORD})
    assert confirmed.url == "/console/credentials/mfa/remove"
    page = client.get(confirmed.url)
    assert "Password confirmed — continue with “Remove device”" in page.content.decode()
    assert b"Remove your MFA device?" in page.content
    assert "Password confirmed" not in client.get("/console/credentials/mfa").content.decode()
