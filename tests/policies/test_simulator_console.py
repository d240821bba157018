"""The simulator's principal field: a user or role that isn't there is a form error, and the
other inputs stay as typed."""

from __future__ import annotations

import pytest

from tests.test_view_matrix import client_for

pytestmark = pytest.mark.django_db

FORM = {
    "principal": "nobody",
    "actions": "ram:ListUsers\noss:GetObject",
    "resource": "acs:oss:*:1:bucket/key",
    "source_ip": "198.51.100.7",
}


def test_unknown_user_is_a_form_error_and_the_input_stays(tenant, admin):
    response = client_for(admin).post("/console/simulator/", FORM)
    assert response.status_code == 400
    form = response.context["form"]
    assert "There is no user nobody" in form.errors["principal"][0]
    assert "role/&lt;role name&gt;" in response.content.decode()
    page = response.content.decode()
    assert 'value="acs:oss:*:1:bucket/key"' in page and 'value="198.51.100.7"' in page
    assert "ram:ListUsers\noss:GetObject" in page


def test_role_name_without_prefix_hints_at_role_prefix(tenant, admin):
    from roles.services import role_create

    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        f'"Principal":{{"RAM":["acs:ram::{tenant.account.uid}:root"]}}}}]}}'
    )
    role_create(actor=tenant.root_principal, name="ops-role", trust_policy=trust)
    client = client_for(admin)
    response = client.post("/console/simulator/", {**FORM, "principal": "ops-role"})
    assert response.status_code == 400
    assert "enter role/" in response.context["form"].errors["principal"][0]
    missing = client.post("/console/simulator/", {**FORM, "principal": "role/ghost"})
    assert missing.status_code == 400
    assert missing.context["form"].errors["principal"] == [
        "There is no role ghost in this account."
    ]
    ok = client.post("/console/simulator/", {**FORM, "principal": "role/ops-role"})
    assert ok.status_code == 200 and ok.context["results"]
