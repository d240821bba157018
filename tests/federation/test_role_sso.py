"""Console role SSO: a SAML response posted to the role-SSO ACS lets the user pick a granted
role and enter the console as that role session; it ends when the session is revoked."""

from __future__ import annotations

import base64
import json
import time

import pytest
from django.test import Client

from audit.models import AuditEvent
from federation.saml import ROLE_ATTRIBUTE, SESSION_ATTRIBUTE, role_sp
from federation.services import saml_provider_create
from policies.services import policy_attach
from roles.services import role_create
from sts.models import StsSession
from tests.conftest import system_policy
from tests.federation.saml_idp import TestSamlIdp, confirmation
from tests.test_view_matrix import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.saml]


@pytest.fixture(scope="module")
def idp():
    return TestSamlIdp()


@pytest.fixture
def setup(tenant, idp):
    root = tenant.root_principal
    provider = saml_provider_create(actor=root, name="corp", metadata=idp.metadata)
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Federated": [provider.arn]},
                    "Condition": {"StringEquals": {"saml:recipient": role_sp().acs_url}},
                }
            ],
        }
    )
    reader = role_create(actor=root, name="reader", trust_policy=trust)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), role=reader)
    operator = role_create(actor=root, name="operator", trust_policy=trust)
    tenant.make_user("bob")
    return {"provider": provider, "reader": reader, "operator": operator}


def assertion(idp, setup, *roles: str) -> str:
    return idp.response(
        role_sp(),
        subject="carol@corp.example",
        attributes={
            ROLE_ATTRIBUTE: [f"{setup[r].arn},{setup['provider'].arn}" for r in roles],
            SESSION_ATTRIBUTE: ["carol"],
        },
    )


def sign_in(idp, setup, role: str = "reader") -> Client:
    client = Client()
    picker = client.post(
        "/console/sso/saml-role", {"SAMLResponse": assertion(idp, setup, "reader", "operator")}
    )
    assert picker.status_code == 200
    body = picker.content.decode()
    assert "reader" in body and "operator" in body
    value = f"{setup['provider'].pk}:{setup[role].pk}"
    done = client.post("/console/sso/saml-role/choose", {"choice": value})
    assert done.status_code == 302 and done["Location"] == "/console/"
    return client


def test_pick_a_role_and_use_the_console_as_it(idp, setup, tenant):
    client = sign_in(idp, setup)
    page = client.get("/console/")
    assert page.status_code == 200 and b"role via SSO" in page.content
    assert client.get("/console/users/").status_code == 200  # the role may read RAM
    refused = client.post("/console/groups/new", {"name": "nope", "comments": ""})
    assert refused.status_code == 403
    session = StsSession.objects.get(role=setup["reader"])
    assert session.session_name == "carol" and session.source_arn == setup["provider"].arn
    event = AuditEvent.objects.filter(action="console:RoleSSO", outcome="success").latest("id")
    assert (
        event.account_id == tenant.account.pk and event.details["subject"] == "carol@corp.example"
    )
    denied = AuditEvent.objects.filter(action="ram:CreateGroup", outcome="denied").get()
    assert denied.credential == session.access_key_id


def test_the_overview_of_a_role_without_permissions(idp, setup):
    """No RAM user behind the session: the welcome names the role session."""
    client = sign_in(idp, setup, role="operator")  # no policy attached
    page = client.get("/console/")
    assert page.status_code == 200
    assert b"No permissions are granted to you yet" in page.content
    assert b"carol" in page.content


def test_user_only_pages_send_the_role_to_the_overview(idp, setup):
    client = sign_in(idp, setup)
    for path in ("/console/credentials/", "/console/password", "/console/credentials/mfa"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/console/", path


def test_revoking_the_session_signs_the_browser_out(idp, setup, admin):
    client = sign_in(idp, setup)
    session = StsSession.objects.get(role=setup["reader"])
    client_for(admin).post(f"/console/audit/sessions/sts/{session.access_key_id}/revoke")
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login")


def test_logout(idp, setup):
    client = sign_in(idp, setup)
    client.post("/console/logout")
    assert client.get("/console/").status_code == 302


def test_refusals(idp, setup):
    signed = assertion(idp, setup, "reader")
    forged = (
        base64.b64decode(signed).decode().replace(">carol@corp.example<", ">admin@corp.example<")
    )
    cases = {
        "tampered": base64.b64encode(forged.encode()).decode(),
        "unknown idp": TestSamlIdp("https://stranger.example/idp").response(role_sp(), subject="x"),
        "no roles": idp.response(role_sp(), subject="carol"),
        "garbage": "###",
    }
    for label, response in cases.items():
        result = Client().post("/console/sso/saml-role", {"SAMLResponse": response})
        assert result.status_code == 401, label
    assert not StsSession.objects.exists()


def test_a_recipient_of_another_service_provider_is_refused(idp, setup):
    response = idp.response(
        role_sp(),
        subject="carol",
        attributes={ROLE_ATTRIBUTE: [f"{setup['reader'].arn},{setup['provider'].arn}"]},
        tweak=confirmation(recipient="https://elsewhere.example/acs"),
    )
    result = Client().post("/console/sso/saml-role", {"SAMLResponse": response})
    assert result.status_code == 401 and b"Recipient" in result.content
    assert b"reader" not in result.content


def test_replay_and_tampered_choice(idp, setup):
    response = assertion(idp, setup, "reader")
    client = Client()
    assert client.post("/console/sso/saml-role", {"SAMLResponse": response}).status_code == 200
    assert Client().post("/console/sso/saml-role", {"SAMLResponse": response}).status_code == 401
    other = f"{setup['provider'].pk}:{setup['operator'].pk}"  # not granted by this assertion
    refused = client.post("/console/sso/saml-role/choose", {"choice": other})
    assert refused.status_code == 302 and refused["Location"] == "/console/login"
    assert not StsSession.objects.exists()


def test_a_stale_pick_is_refused(idp, setup, monkeypatch):
    client = Client()
    client.post("/console/sso/saml-role", {"SAMLResponse": assertion(idp, setup, "reader")})
    later = time.time() + 600
    monkeypatch.setattr(time, "time", lambda: later)
    value = f"{setup['provider'].pk}:{setup['reader'].pk}"
    response = client.post("/console/sso/saml-role/choose", {"choice": value})
    assert response.status_code == 302 and response["Location"] == "/console/login"


def test_the_same_idp_entity_in_another_account_with_other_keys(idp, setup, other_tenant):
    saml_provider_create(
        actor=other_tenant.root_principal, name="corp", metadata=TestSamlIdp().metadata
    )
    picker = Client().post(
        "/console/sso/saml-role", {"SAMLResponse": assertion(idp, setup, "reader")}
    )
    assert picker.status_code == 200 and b"reader" in picker.content
    assert AuditEvent.objects.filter(
        action="console:RoleSSO", account=other_tenant.account, outcome="denied"
    ).exists()


def test_role_create_template_for_a_saml_provider(setup, admin, tenant):
    from roles.models import Role

    response = client_for(admin).post(
        "/console/roles/new",
        {
            "name": "from-template",
            "max_session_duration": "3600",
            "trusted_kind": "saml_provider",
            "trusted_value": "corp",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    trust = json.loads(Role.objects.get(account=tenant.account, name="from-template").trust_policy)
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Federated": [setup["provider"].arn]}
    assert statement["Condition"] == {"StringEquals": {"saml:recipient": role_sp().acs_url}}
    missing = client_for(admin).post(
        "/console/roles/new",
        {
            "name": "no-such",
            "max_session_duration": "3600",
            "trusted_kind": "oidc_provider",
            "trusted_value": "nobody",
        },
    )
    assert missing.status_code == 404


def test_login_network_masks_apply_to_role_sso(idp, setup, tenant):
    from accounts.preferences import security_preference_set

    security_preference_set(actor=tenant.root_principal, login_network_masks="10.0.0.0/8")
    response = Client().post(
        "/console/sso/saml-role", {"SAMLResponse": assertion(idp, setup, "reader")}
    )
    assert response.status_code == 401 and b"not allowed from your network" in response.content


def test_role_sp_metadata_is_published(db):
    response = Client().get("/console/sso/saml-role/metadata")
    assert response.status_code == 200
    assert role_sp().acs_url in response.content.decode()
    assert "X509Certificate" in response.content.decode()


def test_a_pick_posted_twice_at_once_issues_one_session(idp, setup):
    """Two concurrent picks read the same pending sign-in; only one may become a session."""
    from federation.role_sso import PENDING

    client = Client()
    response = assertion(idp, setup, "reader")
    assert client.post("/console/sso/saml-role", {"SAMLResponse": response}).status_code == 200
    pending = client.session[PENDING]
    value = f"{setup['provider'].pk}:{setup['reader'].pk}"
    twin = Client()  # the second request of the race: the same pending state
    session = twin.session
    session[PENDING] = pending
    session.save()
    first = client.post("/console/sso/saml-role/choose", {"choice": value})
    assert first.status_code == 302 and first["Location"] == "/console/"
    second = twin.post("/console/sso/saml-role/choose", {"choice": value})
    assert second.status_code == 401 and b"already used" in second.content
    assert StsSession.objects.count() == 1
