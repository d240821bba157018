"""The policy simulator explains a resource service's actions as it does RAM's: the decision,
the deciding statement, and who asks for that decision."""

from __future__ import annotations

import json

import pytest

from policies.services import policy_attach, policy_create
from roles.services import role_create
from sts.service_principals import service_create
from tests.test_view_matrix import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def storage(tenant):
    """oss.example registered; a policy allowing reads of bucket b1 from 10.0.0.0/8 and
    denying deletes, attached to user bob and to role reader."""
    service_create(name="oss.example")
    uid = tenant.account.uid
    document = {
        "Version": "1",
        "Statement": [
            {
                "Sid": "ReadB1",
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:ListObjects"],
                "Resource": [f"acs:oss:*:{uid}:b1", f"acs:oss:*:{uid}:b1/*"],
                "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            },
            {
                "Sid": "NoDeletes",
                "Effect": "Deny",
                "Action": "oss:Delete*",
                "Resource": "*",
            },
        ],
    }
    root = tenant.root_principal
    policy = policy_create(actor=root, name="oss-read", document=json.dumps(document))
    bob = tenant.make_user("bob")
    policy_attach(actor=root, policy=policy, user=bob)
    trust = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["fc.example"]},
            }
        ],
    }
    role = role_create(actor=root, name="reader", trust_policy=json.dumps(trust))
    policy_attach(actor=root, policy=policy, role=role)
    return uid


def simulate(client, principal: str, actions: str, resource: str, source_ip: str = "") -> list:
    """[(action, asked by, decision label, deciding statement or "")] as the page shows them."""
    response = client.post(
        "/console/simulator/",
        {"principal": principal, "actions": actions, "resource": resource, "source_ip": source_ip},
    )
    assert response.status_code == 200
    html = response.content.decode()
    rows = []
    for r in response.context["results"]:
        deciding = r["decision"].deciding
        why = ""
        if deciding is not None:
            why = f"{deciding.source.describe()}, statement {deciding.statement.index}"
            assert why in html
        rows.append((r["action"], r["decided_by"], r["label"], why, deciding))
        assert f"<code>{r['action']}</code>" in html and r["label"] in html
    return rows


def test_service_actions_are_decided_and_explained(tenant, admin, storage):
    rows = simulate(
        client_for(admin),
        "bob",
        "oss:GetObject\noss:PutObject\noss:DeleteObject",
        f"acs:oss:*:{storage}:b1/k1",
        source_ip="10.1.2.3",
    )
    assert [row[:3] for row in rows] == [
        ("oss:GetObject", "oss.example", "Allow"),
        ("oss:PutObject", "oss.example", "Implicit deny"),
        ("oss:DeleteObject", "oss.example", "Explicit deny"),
    ]
    assert rows[0][3].startswith("Custom policy oss-read (v1), attached directly, statement")
    assert rows[0][4].statement.sid == "ReadB1" and rows[2][4].statement.sid == "NoDeletes"
    assert rows[1][4] is None  # no statement matches: denied by default


def test_conditions_and_resources_bite_as_for_ram_actions(tenant, admin, storage):
    client = client_for(admin)
    outside = simulate(client, "bob", "oss:GetObject", f"acs:oss:*:{storage}:b1/k1", "192.0.2.1")
    assert outside[0][2] == "Implicit deny"
    other_bucket = simulate(client, "bob", "oss:GetObject", f"acs:oss:*:{storage}:b2/k", "10.0.0.1")
    assert other_bucket[0][2] == "Implicit deny"
    as_role = simulate(
        client, "role/reader", "oss:ListObjects", f"acs:oss:*:{storage}:b1", "10.0.0.1"
    )
    assert as_role[0][2] == "Allow" and "oss-read" in as_role[0][3]


def test_who_asks_for_each_decision(tenant, admin, storage):
    client = client_for(admin)
    rows = simulate(client, "bob", "ram:ListUsers\nfc:InvokeFunction\noss:GetObject", "")
    assert [row[:2] for row in rows] == [
        ("ram:ListUsers", "iamconsole"),
        ("fc:InvokeFunction", ""),
        ("oss:GetObject", "oss.example"),
    ]
    html = client.post(
        "/console/simulator/", {"principal": "bob", "actions": "fc:InvokeFunction"}
    ).content.decode()
    assert "no registered service decides these actions" in html


@pytest.mark.parametrize("actions", ["GetObject", "oss:*", "oss:Get*", "oss:Get Object", " "])
def test_actions_must_be_named_as_a_request_names_them(tenant, admin, storage, actions):
    response = client_for(admin).post(
        "/console/simulator/", {"principal": "bob", "actions": actions, "resource": ""}
    )
    assert response.status_code == 200
    assert 'id="results"' not in response.content.decode()
    assert response.context["form"].errors["actions"]
