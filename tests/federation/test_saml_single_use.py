"""One SAML assertion, one use: whichever path accepts it first (AssumeRoleWithSAML, console role
SSO, user SSO), every other path refuses it afterwards."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts.models import ConsoleSession
from federation.saml import ROLE_ATTRIBUTE, SESSION_ATTRIBUTE, ServiceProvider, role_sp, user_sp
from federation.services import saml_provider_create
from federation.user_sso import user_sso_set
from roles.services import role_create
from sts.models import StsSession
from tests.federation.saml_idp import TestSamlIdp

pytestmark = [pytest.mark.django_db, pytest.mark.saml]


@pytest.fixture(scope="module")
def idp():
    return TestSamlIdp()


@pytest.fixture
def setup(tenant, idp):
    root = tenant.root_principal
    provider = saml_provider_create(actor=root, name="corp", metadata=idp.metadata)
    trust = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Federated": [provider.arn]},
            }
        ],
    }
    role = role_create(actor=root, name="engineer", trust_policy=json.dumps(trust))
    tenant.make_user("alice")
    user_sso_set(actor=root, enabled=True, metadata=idp.metadata)
    return {"provider": provider, "role": role, "user_sp": user_sp(tenant.account.uid)}


def grant(setup) -> dict:
    return {
        ROLE_ATTRIBUTE: [f"{setup['role'].arn},{setup['provider'].arn}"],
        SESSION_ATTRIBUTE: ["alice"],
    }


def also_for(other: ServiceProvider):
    """A tweak addressing the assertion to `other` as well: its audience, a second bearer
    confirmation for its ACS, and no Destination (a Response has only one)."""

    def tweak(response) -> None:
        assertion = response.assertion
        restriction = assertion.conditions.audience_restriction[0]
        extra = copy.deepcopy(restriction.audience[0])
        extra.text = other.entity_id
        restriction.audience.append(extra)
        confirmation = copy.deepcopy(assertion.subject.subject_confirmation[0])
        confirmation.subject_confirmation_data.recipient = other.acs_url
        assertion.subject.subject_confirmation.append(confirmation)
        response.destination = None

    return tweak


def assume(setup, assertion: str) -> tuple[int, dict]:
    query = {
        "Action": "AssumeRoleWithSAML",
        "Version": "2015-04-01",
        "Format": "JSON",
        "SAMLProviderArn": setup["provider"].arn,
        "RoleArn": setup["role"].arn,
        "SAMLAssertion": assertion,
    }
    response = Client().post(
        "/", data=urlencode(query), content_type="application/x-www-form-urlencoded"
    )
    return response.status_code, response.json()


def role_sso(assertion: str):
    return Client().post("/console/sso/saml-role", {"SAMLResponse": assertion})


def user_sso(tenant, assertion: str):
    return Client().post(f"/console/sso/saml/{tenant.account.uid}", {"SAMLResponse": assertion})


def assert_used(response) -> None:
    assert response.status_code == 401
    assert b"already used" in response.content


def test_used_by_assume_role_with_saml_then_refused_by_console_role_sso(setup, idp):
    assertion = idp.response(role_sp(), attributes=grant(setup))
    assert assume(setup, assertion)[0] == 200
    assert_used(role_sso(assertion))
    assert StsSession.objects.count() == 1


def test_used_by_console_role_sso_then_refused_by_assume_role_with_saml(setup, idp):
    assertion = idp.response(role_sp(), attributes=grant(setup))
    assert role_sso(assertion).status_code == 200
    status, body = assume(setup, assertion)
    assert (status, body["Code"]) == (401, "AuthenticationFail.SAMLAssertion.Invalid")
    assert "already used" in body["Message"]
    assert not StsSession.objects.exists()


def test_used_by_user_sso_then_refused_by_role_sso_and_sts(setup, idp, tenant):
    both = also_for(role_sp())
    assertion = idp.response(setup["user_sp"], subject="alice", attributes=grant(setup), tweak=both)
    assert user_sso(tenant, assertion).status_code == 302
    assert_used(role_sso(assertion))
    status, body = assume(setup, assertion)
    assert status == 401 and "already used" in body["Message"]
    assert not StsSession.objects.exists()


def test_used_by_role_sso_then_refused_by_user_sso(setup, idp, tenant):
    both = also_for(setup["user_sp"])
    assertion = idp.response(role_sp(), subject="alice", attributes=grant(setup), tweak=both)
    assert assume(setup, assertion)[0] == 200
    assert_used(user_sso(tenant, assertion))
    assert not ConsoleSession.objects.exists()


def test_a_fresh_assertion_addressed_to_both_is_accepted_by_each(setup, idp, tenant):
    """The refusals above are the single-use record's, not the double addressing's."""
    both = also_for(role_sp())
    first = idp.response(setup["user_sp"], subject="alice", attributes=grant(setup), tweak=both)
    second = idp.response(setup["user_sp"], subject="alice", attributes=grant(setup), tweak=both)
    assert user_sso(tenant, first).status_code == 302
    assert role_sso(second).status_code == 200
