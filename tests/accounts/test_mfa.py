"""MFA: enrollment, the second sign-in step, recovery codes, enforcement, remembered devices."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pyotp
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.models import User
from accounts.preferences import security_preference_set
from accounts.services import login_profile_set
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "alice@acme.iam.localhost"


def sign_in(client: Client, login: str = LOGIN, password: str = PASSWORD):
    return client.post("/console/login", {"login": login, "password": password})


def enroll(client: Client) -> tuple[pyotp.TOTP, list[str]]:
    page = client.get("/console/mfa/enroll")
    secret = re.search(rb'id="mfa-secret"[^>]*>([A-Z2-7]+)<', page.content).group(1).decode()
    assert b"<svg" in page.content  # the QR code is rendered inline
    totp = pyotp.TOTP(secret)
    away_from_a_step_boundary()
    response = client.post("/console/mfa/enroll", {"code": totp.now()})
    assert response.status_code == 200, response.content[:500]
    block = re.search(r'<pre id="recovery-codes">(.*?)</pre>', response.content.decode(), re.S)
    codes = block.group(1).split()
    return totp, codes


def away_from_a_step_boundary() -> None:
    """A code computed just before a 30 s step ends and checked just after it is accepted with
    a drift, which django-otp remembers and which then shifts the window the next code must
    fall in: keep enrolment inside one step so the tests don't depend on that luck."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)


def next_code(totp: pyotp.TOTP) -> str:
    """A code for the next time step: django-otp refuses a step that was already used."""
    return totp.at(time.time() + 30)


def wait_out_throttle(user) -> None:
    """django-otp delays the next attempt after a failure (1 s, 2 s, …): let that time pass."""
    past = timezone.now() - timedelta(minutes=5)
    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=past)


@pytest.fixture
def alice(tenant):
    return tenant.make_user("alice")


def test_enrollment_then_sign_in_needs_the_code(alice):
    client = Client()
    sign_in(client)
    totp, codes = enroll(client)
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=alice).confirmed
    stored = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert not stored & {c.replace("-", "") for c in codes} and len(stored) == 10  # hashed
    client.post("/console/logout")

    fresh = Client()
    assert sign_in(fresh)["Location"] == "/console/login/mfa"
    assert fresh.get("/console/users/")["Location"].startswith("/console/login")
    wrong = fresh.post("/console/login/mfa", {"code": "000000"})
    assert wrong.status_code == 401 and b"That code is not right" in wrong.content
    wait_out_throttle(alice)
    ok = fresh.post("/console/login/mfa", {"code": next_code(totp)})
    assert ok.status_code == 302
    assert b"MFA \xe2\x9c\x93" in fresh.get("/console/").content  # the session is MFA-verified
    events = AuditEvent.objects.filter(action="console:VerifyMFA").values_list("outcome", flat=True)
    assert sorted(events) == ["error", "success"]


def test_a_code_cannot_be_used_twice(alice):
    client = Client()
    sign_in(client)
    totp, _ = enroll(client)
    code = next_code(totp)
    first, second = Client(), Client()
    sign_in(first)
    sign_in(second)
    assert first.post("/console/login/mfa", {"code": code}).status_code == 302
    assert second.post("/console/login/mfa", {"code": code}).status_code == 401


def test_recovery_code_works_once(alice):
    client = Client()
    sign_in(client)
    _, codes = enroll(client)
    first = Client()
    sign_in(first)
    assert first.post("/console/login/mfa", {"code": codes[0].upper()}).status_code == 302
    assert mfa.recovery_codes_left(alice) == 9
    again = Client()
    sign_in(again)
    assert again.post("/console/login/mfa", {"code": codes[0]}).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_use_of_one_recovery_code_succeeds_once(tenant):
    user = tenant.make_user("racer")
    client = Client()
    sign_in(client, "racer@acme.iam.localhost")
    _, codes = enroll(client)
    results: list[object] = []

    def use() -> None:
        try:
            results.append(mfa._use_recovery_code(user, codes[3]))
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 1


def test_code_failures_count_toward_the_lock(alice):
    client = Client()
    sign_in(client)
    enroll(client)
    attacker = Client()
    sign_in(attacker)
    for _ in range(5):
        wait_out_throttle(alice)
        attacker.post("/console/login/mfa", {"code": "123456"})
    alice.refresh_from_db()
    assert alice.locked_until is not None
    assert AuditEvent.objects.filter(action="console:Lockout").exists()
    # The right password no longer helps, with the same message as a wrong one.
    response = sign_in(Client())
    assert response.status_code == 401 and b"temporarily locked" in response.content


def test_correct_password_does_not_reset_code_failures(alice):
    client = Client()
    sign_in(client)
    enroll(client)
    for _ in range(3):
        attacker = Client()
        sign_in(attacker)  # the password is known
        wait_out_throttle(alice)
        attacker.post("/console/login/mfa", {"code": "654321"})
    alice.refresh_from_db()
    # Each round used two of the five attempts (password, code); none was given back.
    assert alice.locked_until is not None


def test_mfa_bind_required_gates_every_page(tenant, alice):
    login_profile_set(actor=tenant.root_principal, user=alice, mfa_bind_required=True)
    client = Client()
    assert sign_in(client)["Location"] == "/console/mfa/enroll"
    for url in ("/console/", "/console/users/", "/console/credentials/", "/console/password"):
        assert client.get(url)["Location"] == "/console/mfa/enroll"
    enroll(client)
    assert client.get("/console/").status_code == 200
    alice.refresh_from_db()
    assert alice.mfa_bind_required is False


def test_account_requirement_for_administrators(tenant, admin, alice):
    security_preference_set(actor=tenant.root_principal, mfa_requirement="admins")
    admin_client, plain_client = Client(), Client()
    assert sign_in(admin_client, "admin@acme.iam.localhost")["Location"] == "/console/mfa/enroll"
    assert sign_in(plain_client)["Location"] == "/console/"


def test_user_cannot_remove_its_only_device_while_required(tenant, alice):
    client = Client()
    sign_in(client)
    enroll(client)
    security_preference_set(actor=tenant.root_principal, mfa_requirement="all")
    response = client.post("/console/credentials/mfa/remove", follow=True)
    assert b"can&#x27;t remove your only device" in response.content
    assert mfa.has_mfa(alice)


def test_remembered_device_skips_the_code_until_revoked(tenant, alice):
    security_preference_set(actor=tenant.root_principal, enable_save_mfa_ticket=True)
    client = Client()
    sign_in(client)
    totp, _ = enroll(client)
    client.post("/console/logout")
    sign_in(client)
    client.post("/console/login/mfa", {"code": next_code(totp), "remember": "on"})
    assert mfa.TICKET_COOKIE in client.cookies
    client.post("/console/logout")
    assert sign_in(client)["Location"] == "/console/"  # no second step on this device
    client.post("/console/credentials/mfa/forget-devices")
    client.post("/console/logout")
    assert sign_in(client)["Location"] == "/console/login/mfa"


def test_administrator_unbinds_with_step_up(tenant, admin, alice):
    user_client = Client()
    sign_in(user_client)
    enroll(user_client)
    admin_client = Client()
    sign_in(admin_client, "admin@acme.iam.localhost")
    session = admin_client.session
    session["reauthenticated_at"] = 0
    session.save()
    assert admin_client.post("/console/users/alice/mfa/unbind")["Location"].startswith(
        "/console/reauth"
    )
    admin_client.post("/console/reauth", {"password": PASSWORD})
    admin_client.post("/console/users/alice/mfa/unbind")
    assert not mfa.has_mfa(alice)
    assert AuditEvent.objects.filter(action="ram:UnbindMFADevice", outcome="success").exists()


def test_network_masks_refuse_sign_in_from_elsewhere(tenant, alice):
    security_preference_set(actor=tenant.root_principal, login_network_masks="10.0.0.0/8")
    refused = Client(REMOTE_ADDR="192.168.1.5").post(
        "/console/login", {"login": LOGIN, "password": PASSWORD}
    )
    assert refused.status_code == 401 and b"not allowed from your network" in refused.content
    allowed = Client(REMOTE_ADDR="10.1.2.3").post(
        "/console/login", {"login": LOGIN, "password": PASSWORD}
    )
    assert allowed.status_code == 302


def test_session_lasts_login_session_duration(tenant, alice):
    security_preference_set(actor=tenant.root_principal, login_session_duration=2)
    client = Client()
    sign_in(client)
    assert client.session.get_expiry_age() == 7200


def test_per_address_limit_across_users(tenant, alice, settings):
    settings.IAM_LOGIN_FAILURES_PER_IP = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    for name in ("x", "y", "z"):
        client.post("/console/login", {"login": f"{name}@acme.iam.localhost", "password": "no"})
    blocked = client.post("/console/login", {"login": LOGIN, "password": PASSWORD})
    assert blocked.status_code == 401 and b"temporarily locked" in blocked.content
    other = Client(REMOTE_ADDR="203.0.113.10")
    assert other.post("/console/login", {"login": LOGIN, "password": PASSWORD}).status_code == 302


def test_policy_can_require_mfa_present(tenant, alice):
    from policies.services import policy_attach, policy_create

    policy = policy_create(
        actor=tenant.root_principal,
        name="MfaUsers",
        document=(
            '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListUsers","Resource":"*",'
            '"Condition":{"Bool":{"acs:MFAPresent":"true"}}}]}'
        ),
    )
    policy_attach(actor=tenant.root_principal, policy=policy, user=User.objects.get(pk=alice.pk))
    client = Client()
    sign_in(client)
    assert client.get("/console/users/").status_code == 403
    enroll(client)
    assert client.get("/console/users/").status_code == 200
