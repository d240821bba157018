"""Rotating SECRET_KEY keeps recovery codes and live STS tokens working while the old key sits in
SECRET_KEY_FALLBACKS, and retires them once the fallback is dropped."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from sts.services import assume_role
from tests.accounts.test_mfa import enroll, sign_in
from tests.conftest import principal_for
from tests.sts.test_assume_role import setup as setup
from tests.sts.test_assume_role import signed_with

pytestmark = pytest.mark.django_db

NEW_KEY = "a-brand-new-secret-key-for-the-rotation-test-0123456789-abcdefghij"


def test_rotation_keeps_tokens_and_recovery_codes_until_the_fallback_goes(tenant, setup):
    tenant.make_user("alice")
    client = Client()
    sign_in(client)
    _, codes = enroll(client)
    creds = assume_role(
        actor=principal_for(setup["caller"]), role_arn=setup["arn"], session_name="rotate"
    )
    api = signed_with(creds)
    old_key = settings.SECRET_KEY

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[old_key]):
        response = api.v1("ListUsers", extra={"SecurityToken": creds.token})
        assert response.status_code == 200, response.json()
        rotated = Client()
        sign_in(rotated)
        assert rotated.post("/console/login/mfa", {"code": codes[0]}).status_code == 302

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        response = api.v1("ListUsers", extra={"SecurityToken": creds.token})
        assert response.json()["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"
        retired = Client()
        sign_in(retired)
        assert retired.post("/console/login/mfa", {"code": codes[1]}).status_code == 401


def test_new_secrets_are_digested_with_the_current_key(tenant, setup):
    old_key = settings.SECRET_KEY
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[old_key]):
        creds = assume_role(
            actor=principal_for(setup["caller"]), role_arn=setup["arn"], session_name="fresh"
        )
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        response = signed_with(creds).v1("ListUsers", extra={"SecurityToken": creds.token})
        assert response.status_code == 200, response.json()


def test_digests_stored_before_the_key_list_still_match():
    """Existing rows hold sha256(purpose + SECRET_KEY) as the HMAC key: the same as salted_hmac."""
    import hashlib
    import hmac

    from accounts.mfa import _code_digest
    from sts.services import token_digest

    def legacy(purpose: bytes, value: str) -> str:
        key = hashlib.sha256(purpose + settings.SECRET_KEY.encode()).digest()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    assert token_digest("tok") == legacy(b"sts-token:", "tok")
    assert _code_digest("abcde-fghjk") == legacy(b"recovery-codes:", "abcdefghjk")[:16]
