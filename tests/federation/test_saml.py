"""AssumeRoleWithSAML with a real pysaml2 identity provider: a signed response buys a session
of a role the assertion grants; tampered, expired, wrong-audience, wrong-recipient, unsigned,
foreign and replayed responses are refused."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from federation.saml import ROLE_ATTRIBUTE, SESSION_ATTRIBUTE, ServiceProvider, role_sp
from federation.services import saml_provider_create
from roles.services import role_create
from sts.models import StsSession
from tests.federation.saml_idp import TestSamlIdp, confirmation, saml_time

pytestmark = [pytest.mark.django_db, pytest.mark.saml]


@pytest.fixture(scope="module")
def idp():
    return TestSamlIdp()


def trust(provider_arn: str, recipient: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Federated": [provider_arn]},
                    "Condition": {"StringEquals": {"saml:recipient": recipient}},
                }
            ],
        }
    )


@pytest.fixture
def setup(tenant, idp):
    root = tenant.root_principal
    provider = saml_provider_create(actor=root, name="corp-idp", metadata=idp.metadata)
    role = role_create(
        actor=root, name="engineer", trust_policy=trust(provider.arn, role_sp().acs_url)
    )
    return {"provider": provider, "role": role}


def grant(setup, role_arn: str | None = None, session: str = "alice") -> dict:
    return {
        ROLE_ATTRIBUTE: [f"{role_arn or setup['role'].arn},{setup['provider'].arn}"],
        SESSION_ATTRIBUTE: [session],
    }


def exchange(setup, assertion: str, **extra) -> tuple[int, dict]:
    query = {
        "Action": "AssumeRoleWithSAML",
        "Version": "2015-04-01",
        "Format": "JSON",
        "SAMLProviderArn": setup["provider"].arn,
        "RoleArn": setup["role"].arn,
        "SAMLAssertion": assertion,
        **extra,
    }
    response = Client().post(
        "/", data=urlencode(query), content_type="application/x-www-form-urlencoded"
    )
    return response.status_code, response.json()


def test_a_signed_assertion_buys_a_session(setup, idp, tenant):
    status, body = exchange(setup, idp.response(role_sp(), attributes=grant(setup)))
    assert status == 200, body
    info = body["SAMLAssertionInfo"]
    assert info == {
        "SubjectType": "persistent",
        "Subject": "alice",
        "Recipient": role_sp().acs_url,
        "Issuer": idp.entity_id,
    }
    assert body["AssumedRoleUser"]["Arn"] == f"{setup['role'].arn}/alice"
    session = StsSession.objects.get(access_key_id=body["Credentials"]["AccessKeyId"])
    assert session.source_arn == setup["provider"].arn
    event = AuditEvent.objects.get(action="sts:AssumeRoleWithSAML", outcome="success")
    assert event.account_id == tenant.account.pk and event.details["subject"] == "alice"
    assert event.details["assertion"]


def test_a_tampered_assertion_is_refused(setup, idp):
    signed = base64.b64decode(idp.response(role_sp(), attributes=grant(setup))).decode()
    forged = signed.replace(">alice<", ">mallory<")
    assert forged != signed
    status, body = exchange(setup, base64.b64encode(forged.encode()).decode())
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.InvalidSignature")
    assert not StsSession.objects.exists()


def test_an_expired_assertion_is_refused(setup, idp):
    assertion = idp.response(role_sp(), attributes=grant(setup))
    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        status, body = exchange(setup, assertion)
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Expired"), body


def test_wrong_audience_and_recipient_are_refused(setup, idp):
    other = ServiceProvider("https://elsewhere.example/sp", "https://elsewhere.example/acs")
    status, body = exchange(
        setup, idp.response(role_sp(), attributes=grant(setup), audience=other.entity_id)
    )
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.AudienceNotMatch")
    status, body = exchange(
        setup, idp.response(role_sp(), attributes=grant(setup), destination=other.acs_url)
    )
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.AudienceNotMatch")


def test_a_recipient_of_another_service_provider_is_refused(setup, idp):
    """Audience and Destination are ours, but the bearer confirmation names another SP's ACS."""
    elsewhere = confirmation(recipient="https://elsewhere.example/acs")
    assertion = idp.response(role_sp(), attributes=grant(setup), tweak=elsewhere)
    status, body = exchange(setup, assertion)
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Invalid"), body
    assert "Recipient" in body["Message"] and role_sp().acs_url in body["Message"]
    assert not StsSession.objects.exists()


def test_the_confirmation_needs_a_recipient_and_a_lifetime(setup, idp):
    for missing in ("recipient", "not_on_or_after"):
        tweak = confirmation(**{missing: None})
        status, body = exchange(
            setup, idp.response(role_sp(), attributes=grant(setup), tweak=tweak)
        )
        assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Invalid"), missing
    assert not StsSession.objects.exists()


def test_an_expired_confirmation_is_refused_while_the_conditions_hold(setup, idp):
    past = confirmation(not_on_or_after=saml_time(timedelta(minutes=-10)))
    status, body = exchange(setup, idp.response(role_sp(), attributes=grant(setup), tweak=past))
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Expired"), body


def test_a_response_to_a_request_this_sp_never_sent_is_refused(setup, idp):
    """The role-SSO service provider sends no AuthnRequest: it takes unsolicited responses only."""
    answer = idp.response(role_sp(), attributes=grant(setup), in_response_to="id-not-ours")
    status, body = exchange(setup, answer)
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Invalid"), body
    assert "InResponseTo" in body["Message"]


def test_unsigned_and_foreign_responses_are_refused(setup, idp):
    status, body = exchange(setup, idp.response(role_sp(), attributes=grant(setup), sign=False))
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.InvalidSignature")
    stranger = TestSamlIdp()
    status, body = exchange(setup, stranger.response(role_sp(), attributes=grant(setup)))
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.InvalidSignature")


def test_a_replayed_assertion_is_refused(setup, idp):
    assertion = idp.response(role_sp(), attributes=grant(setup))
    assert exchange(setup, assertion)[0] == 200
    status, body = exchange(setup, assertion)
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Invalid")
    assert "already used" in body["Message"]


def test_a_role_the_assertion_does_not_grant_is_refused(setup, idp, tenant):
    other = role_create(
        actor=tenant.root_principal,
        name="admin-role",
        trust_policy=trust(setup["provider"].arn, role_sp().acs_url),
    )
    status, body = exchange(
        setup, idp.response(role_sp(), attributes=grant(setup)), RoleArn=other.arn
    )
    assert (status, body["Code"]) == (403, "NoPermission")
    assert "does not grant" in body["Message"]


def test_the_trust_policy_checks_the_recipient(setup, idp, tenant):
    picky = role_create(
        actor=tenant.root_principal,
        name="picky",
        trust_policy=trust(setup["provider"].arn, "https://signin.example/saml-role/sso"),
    )
    assertion = idp.response(role_sp(), attributes=grant(setup, picky.arn))
    status, body = exchange(setup, assertion, RoleArn=picky.arn)
    assert (status, body["Code"]) == (403, "NoPermission")


def test_garbage_and_unknown_providers(setup, idp, tenant):
    for junk in ("abc", "!!!!", base64.b64encode(b"<x/>").decode(), "A" * 200_000):
        status, body = exchange(setup, junk)
        assert status == 401 and body["Code"] == "AuthenticationFail.SAMLAssertion.Invalid", junk
    dtd = base64.b64encode(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').decode()
    assert exchange(setup, dtd)[1]["Code"] == "AuthenticationFail.SAMLAssertion.Invalid"
    unknown = f"acs:ram::{tenant.account.uid}:saml-provider/nobody"
    status, body = exchange(setup, "abcd", SAMLProviderArn=unknown)
    assert (status, body["Code"]) == (404, "EntityNotExist.SAMLProvider")
