"""Sign-in gates: a user who must change its password and bind MFA does both, password first,
and neither gate sends it away from the page the other one needs."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.test import Client

from accounts.preferences import security_preference_set
from accounts.services import login_profile_set
from tests.accounts.test_mfa import away_from_a_step_boundary
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
