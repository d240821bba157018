"""User SSO: RAM users sign in to the console with a response from the account's SAML IdP;
tampered, expired, foreign, replayed responses and unknown users are refused; provisioning and
turning password sign-in off work as set, and root keeps its password."""

from __future__ import annotations

import base64
import html
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import ConsoleSession, User
from audit.models import AuditEvent
from federation.saml import user_sp
from federation.user_sso import user_sso_set
from tests.conftest import PASSWORD
from tests.federation.saml_idp import TestSamlIdp, confirmation
from tests.test_view_matrix import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.saml]


@pytest.fixture(scope="module")
def idp():
    return TestSamlIdp()


@pytest.fixture
def sso(tenant, idp):
    tenant.make_user("alice")
    return user_sso_set(actor=tenant.root_principal, enabled=True, metadata=idp.metadata)


def post(tenant, response: str, client: Client | None = None):
    client = client or Client()
    return client, client.post(
        f"/console/sso/saml/{tenant.account.uid}", {"SAMLResponse": response}
    )


def test_a_signed_response_signs_the_user_in(tenant, idp, sso):
    client, response = post(tenant, idp.response(user_sp(tenant.account.uid), subject="alice"))
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    row = ConsoleSession.objects.get(user__name="alice")
    assert row.mfa is False
    event = AuditEvent.objects.filter(action="console:Login", outcome="success").latest("id")
    assert event.details["method"] == "saml" and event.details["idp"] == idp.entity_id
    assert event.details["assertion"]


def test_login_names_with_the_accounts_domain_or_an_auxiliary_domain(tenant, idp, sso):
    sp = user_sp(tenant.account.uid)
    assert post(tenant, idp.response(sp, subject="alice@acme.iam.localhost"))[1].status_code == 302
    refused = post(tenant, idp.response(sp, subject="alice@corp.example"))[1]
    assert refused.status_code == 401 and b"not this account" in refused.content
    user_sso_set(actor=tenant.root_principal, auxiliary_domain="corp.example")
    assert post(tenant, idp.response(sp, subject="alice@corp.example"))[1].status_code == 302


def test_login_name_from_an_attribute(tenant, idp, sso):
    user_sso_set(actor=tenant.root_principal, login_attribute="urn:oid:0.9.2342.19200300.100.1.1")
    response = idp.response(
        user_sp(tenant.account.uid),
        subject="opaque-id-123",
        attributes={"urn:oid:0.9.2342.19200300.100.1.1": ["alice"]},
    )
    assert post(tenant, response)[1].status_code == 302


def test_refusals(tenant, idp, sso):
    sp = user_sp(tenant.account.uid)
    signed = idp.response(sp, subject="alice")
    forged = base64.b64decode(signed).decode().replace(">alice<", ">admin<")
    cases = {
        "tampered": base64.b64encode(forged.encode()).decode(),
        "foreign idp": TestSamlIdp().response(sp, subject="alice"),
        "wrong audience": idp.response(user_sp("0000000000000000"), subject="alice"),
        "unknown user": idp.response(sp, subject="nobody"),
        "garbage": "not a response",
    }
    for label, response in cases.items():
        client, result = post(tenant, response)
        assert result.status_code == 401, label
        assert b"Single sign-on failed" in result.content, label
        assert client.get("/console/").status_code == 302, label
    assert not ConsoleSession.objects.exists()
    failures = AuditEvent.objects.filter(action="console:Login", outcome="error")
    assert failures.count() == len(cases)


def test_expired_and_replayed(tenant, idp, sso):
    response = idp.response(user_sp(tenant.account.uid), subject="alice")
    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        assert post(tenant, response)[1].status_code == 401
    assert post(tenant, response)[1].status_code == 302
    again = post(tenant, response)[1]
    assert again.status_code == 401 and b"already used" in again.content


def test_sso_off_or_other_account(tenant, other_tenant, idp, sso):
    user_sso_set(actor=tenant.root_principal, enabled=False)
    assert (
        post(tenant, idp.response(user_sp(tenant.account.uid), subject="alice"))[1].status_code
        == 404
    )
    response = Client().post(
        f"/console/sso/saml/{other_tenant.account.uid}",
        {"SAMLResponse": idp.response(user_sp(other_tenant.account.uid), subject="alice")},
    )
    assert response.status_code == 404


def test_provisioning_creates_unknown_users(tenant, idp, sso):
    user_sso_set(actor=tenant.root_principal, provisioning=True)
    assert (
        post(tenant, idp.response(user_sp(tenant.account.uid), subject="newcomer"))[1].status_code
        == 302
    )
    user = User.objects.get(account=tenant.account, name="newcomer")
    assert user.console_access and not user.has_usable_password()
    assert AuditEvent.objects.filter(action="console:ProvisionUser", target_arn=user.arn).exists()
    bad = post(tenant, idp.response(user_sp(tenant.account.uid), subject="bad name!"))[1]
    assert bad.status_code == 401


def test_locked_down_users_can_not_use_sso(tenant, idp, sso, admin):
    client_for(admin).post("/console/audit/users/alice/lockdown", {"reason": "incident"})
    assert (
        post(tenant, idp.response(user_sp(tenant.account.uid), subject="alice"))[1].status_code
        == 401
    )


def test_password_sign_in_can_be_turned_off_but_root_keeps_it(tenant, idp, sso):
    user_sso_set(actor=tenant.root_principal, password_login_disabled=True)
    refused = Client().post(
        "/console/login", {"login": "alice@acme.iam.localhost", "password": PASSWORD}
    )
    assert refused.status_code == 401 and b"through its identity provider" in refused.content
    wrong = Client().post(
        "/console/login", {"login": "alice@acme.iam.localhost", "password": "nope"}
    )
    assert b"through its identity provider" not in wrong.content  # only with the password
    root = Client().post(
        "/console/login", {"login": "root@acme.example", "password": tenant.root_password}
    )
    assert root.status_code == 302


def test_sp_initiated_start_redirects_to_the_idp(tenant, idp, sso):
    response = Client().post("/console/sso/start", {"account": "acme"})
    assert response.status_code == 200
    assert (
        'content="0;url=https://idp.example.test/saml/sso?SAMLRequest=' in response.content.decode()
    )
    assert Client().post("/console/sso/start", {"account": "nope"}).status_code == 400


def start(client: Client, idp, tenant) -> str:
    """Start an SP-initiated sign-in in `client`; the AuthnRequest's ID, as the IdP reads it."""
    page = client.post("/console/sso/start", {"account": "acme"}).content.decode()
    url = html.unescape(page.split('content="0;url=', 1)[1].split('"', 1)[0])
    saml_request = parse_qs(urlparse(url).query)["SAMLRequest"][0]
    return idp.request_id(user_sp(tenant.account.uid), saml_request)


def test_an_answer_to_our_request_signs_in_the_browser_that_sent_it(tenant, idp, sso):
    client = Client()
    request_id = start(client, idp, tenant)
    sp = user_sp(tenant.account.uid)
    response = idp.response(sp, subject="alice", in_response_to=request_id)
    assert post(tenant, response, client)[1].status_code == 302
    again = idp.response(sp, subject="alice", in_response_to=request_id)  # answered already
    refused = post(tenant, again, client)[1]
    assert refused.status_code == 401 and b"InResponseTo" in refused.content


def test_an_answer_to_another_browsers_or_an_unknown_request_is_refused(tenant, idp, sso):
    sp = user_sp(tenant.account.uid)
    request_id = start(Client(), idp, tenant)
    elsewhere = post(tenant, idp.response(sp, subject="alice", in_response_to=request_id))[1]
    assert elsewhere.status_code == 401 and b"InResponseTo" in elsewhere.content
    client = Client()
    start(client, idp, tenant)
    forged = idp.response(sp, subject="alice", in_response_to="id-never-sent")
    assert post(tenant, forged, client)[1].status_code == 401
    mixed = idp.response(
        sp,
        subject="alice",
        in_response_to=start(client, idp, tenant),
        tweak=confirmation(in_response_to="id-never-sent"),
    )
    assert post(tenant, mixed, client)[1].status_code == 401
    assert not ConsoleSession.objects.exists()


def test_a_recipient_of_another_service_provider_is_refused(tenant, idp, sso):
    elsewhere = confirmation(recipient="https://elsewhere.example/acs")
    response = idp.response(user_sp(tenant.account.uid), subject="alice", tweak=elsewhere)
    result = post(tenant, response)[1]
    assert result.status_code == 401 and b"Recipient" in result.content
    assert AuditEvent.objects.filter(
        action="console:Login",
        outcome="error",
        error_code="AuthenticationFail.SAMLAssertion.Invalid",
    ).exists()


def test_sp_metadata_is_published(tenant, sso):
    response = Client().get(f"/console/sso/saml/{tenant.account.uid}/metadata")
    assert (
        response.status_code == 200 and response["Content-Type"] == "application/samlmetadata+xml"
    )
    assert user_sp(tenant.account.uid).acs_url.encode() in response.content


def test_settings_page_and_validation(tenant, admin, plain, idp):
    client = client_for(admin)
    page = client.get("/console/sso/")
    assert (
        page.status_code == 200 and user_sp(tenant.account.uid).entity_id in page.content.decode()
    )
    bad = client.post("/console/sso/", {"enabled": "on", "metadata": "<not-metadata/>"})
    assert bad.status_code == 400 and b"not valid" in bad.content
    missing = client.post("/console/sso/", {"enabled": "on"})
    assert missing.status_code == 400
    ok = client.post(
        "/console/sso/", {"enabled": "on", "metadata": idp.metadata, "provisioning": "on"}
    )
    assert ok.status_code == 302
    event = AuditEvent.objects.get(action="ram:SetUserSsoSettings", outcome="success")
    assert event.details["after"]["enabled"] is True
    assert client_for(plain).get("/console/sso/").status_code == 403


def test_login_network_masks_apply_to_sso(tenant, idp, sso):
    from accounts.preferences import security_preference_set

    security_preference_set(actor=tenant.root_principal, login_network_masks="10.0.0.0/8")
    response = post(tenant, idp.response(user_sp(tenant.account.uid), subject="alice"))[1]
    assert response.status_code == 401 and b"not allowed from your network" in response.content
    assert AuditEvent.objects.filter(
        action="console:Login", details__reason="network_not_allowed"
    ).exists()


def test_rotateencryptionkeys_reseals_the_sp_key(db):
    import io

    from django.core.management import call_command
    from django.test import override_settings

    from federation.sp_keys import key_files, sp_key

    with override_settings(IAM_ENCRYPTION_KEYS=["old-key-material"]):
        sp_key()
    with override_settings(IAM_ENCRYPTION_KEYS=["new-key-material", "old-key-material"]):
        out = io.StringIO()
        call_command("rotateencryptionkeys", stdout=out)
        assert "Re-encrypted 1 secret" in out.getvalue()
    with override_settings(IAM_ENCRYPTION_KEYS=["new-key-material"]), key_files() as (key, _):
        assert "PRIVATE KEY" in Path(key).read_text()
