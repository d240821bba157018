"""Whole console journeys through the real login form."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(login: str, password: str) -> Client:
    client = Client()
    response = client.post("/console/login", {"login": login, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


def test_admin_created_in_the_console_can_do_what_its_policy_allows(tenant):
    root = sign_in("root@acme.example", tenant.root_password)
    # First visit leads root to create an administrator.
    assert root.get("/console/")["Location"] == "/console/welcome"
    response = root.post("/console/welcome", {"name": "boss", "password": PASSWORD})
    assert response.status_code == 302
    boss = sign_in("boss@acme.iam.localhost", PASSWORD)
    response = boss.post(
        "/console/users/new", {"name": "worker", "access": "console", "password": PASSWORD}
    )
    assert response.status_code == 302
    worker = sign_in("worker@acme.iam.localhost", PASSWORD)
    refused = worker.post("/console/users/new", {"name": "sneaky", "access": "programmatic"})
    assert refused.status_code == 403
    assert b"You are not authorized to do this action (ram:CreateUser" in refused.content
    assert worker.get("/console/users/").status_code == 403
    overview = worker.get("/console/")
    assert b"No permissions are granted to you yet" in overview.content
    assert b'href="/console/users/"' not in overview.content  # hidden from the navigation
    # A read-only group changes that at once.
    boss.post("/console/groups/new", {"name": "readers"})
    boss.post(
        "/console/groups/readers/policies/attach", {"policy": "System/AliyunRAMReadOnlyAccess"}
    )
    boss.post("/console/groups/readers/members/add", {"user": "worker"})
    assert worker.get("/console/users/").status_code == 200
    assert (
        worker.post("/console/users/new", {"name": "x", "access": "programmatic"}).status_code
        == 403
    )
    boss.post("/console/groups/readers/members/worker/remove")
    assert worker.get("/console/users/").status_code == 403


def test_forced_password_change_gates_the_console(tenant, admin):
    admin_client = sign_in("admin@acme.iam.localhost", PASSWORD)
    admin_client.post(
        "/console/users/new",
        {
            "name": "newbie",
            "access": "console",
            "password": PASSWORD,
            "password_reset_required": "on",
        },
    )
    newbie = Client()
    response = newbie.post(
        "/console/login", {"login": "newbie@acme.iam.localhost", "password": PASSWORD}
    )
    assert response["Location"] == "/console/password"
    assert newbie.get("/console/groups/")["Location"] == "/console/password"
    weak = newbie.post(
        "/console/password",
        {"old_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 400 and b"at least 15 characters" in weak.content
    new = "an entirely different passphrase"
    done = newbie.post(
        "/console/password",
        {"old_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert done.status_code == 302
    assert newbie.get("/console/").status_code == 200
    assert sign_in("newbie@acme.iam.localhost", new)


def test_login_failure_is_readable_and_audited(tenant):
    client = Client()
    response = client.post(
        "/console/login", {"login": "nobody@acme.iam.localhost", "password": "x"}
    )
    assert response.status_code == 401
    assert b"The login name or password is incorrect" in response.content
    response = client.post("/console/login", {"login": "root@acme.example", "password": "x"})
    assert b"The login name or password is incorrect" in response.content
    event = AuditEvent.objects.filter(account=tenant.account, action="console:Login").first()
    assert event.outcome == "error" and event.details["reason"] == "wrong_password"


def test_logout_ends_the_session_and_is_audited(tenant, admin):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    assert client.get("/console/logout").status_code == 405  # mutations are POST only
    client.post("/console/logout")
    assert client.get("/console/users/")["Location"].startswith("/console/login")
    assert AuditEvent.objects.filter(action="console:Logout", actor_arn=admin.arn).exists()


def test_objects_of_another_account_are_404(tenant, other_tenant, admin):
    other_tenant.make_user("secret-user")
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    assert client.get("/console/users/secret-user/").status_code == 404
    assert client.get("/console/users/secret-user/permissions").status_code == 404
    listing = client.get("/console/users/")
    assert b"secret-user" not in listing.content


def test_users_list_searches_and_paginates(tenant, admin):
    for i in range(30):
        tenant.make_user(f"svc-{i:02d}", console=False)
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    first = client.get("/console/users/")
    assert b"Page 1 of 2" in first.content
    found = client.get("/console/users/?q=svc-07")
    assert b"svc-07" in found.content and b"svc-08" not in found.content
    empty = client.get("/console/users/?q=zzz")
    assert b"No users match" in empty.content


def test_effective_permissions_and_simulator(tenant, admin):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    client.post(
        "/console/policies/new",
        {
            "name": "NoDelete",
            "document": (
                '{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:DeleteUser",'
                '"Resource":"*"}]}'
            ),
        },
    )
    client.post("/console/users/admin/policies/attach", {"policy": "Custom/NoDelete"})
    page = client.get("/console/users/admin/permissions")
    assert b"NoDelete" in page.content and b"AdministratorAccess" in page.content
    result = client.post(
        "/console/simulator/",
        {
            "principal": "admin",
            "actions": "ram:CreateUser\nram:DeleteUser",
            "resource": f"acs:ram:*:{tenant.account.uid}:user/x",
        },
    )
    text = result.content.decode()
    assert "Explicit deny" in text and "Allow" in text
    assert "Custom policy NoDelete (v1), attached directly" in text


def test_malformed_policy_shows_the_reason_and_keeps_the_input(tenant, admin):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    bad = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetUser"}]}'
    response = client.post("/console/policies/new", {"name": "Broken", "document": bad})
    assert response.status_code == 400
    assert b"Statement[0]: a statement needs exactly one of Resource or NotResource" in (
        response.content
    )
    assert b"ram:GetUser" in response.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "ünïcødé", "access": "programmatic"}, b"contains invalid chars"),
        ({"name": "x" * 65, "access": "programmatic"}, b"Ensure this value has at most 64"),
        (
            {"name": "ok", "access": "programmatic", "display_name": "a\u202eb"},
            b"direction-override",
        ),
        (
            {"name": "ok", "access": "programmatic", "email": "not-an-email"},
            b"not a valid email address",
        ),
        ({"name": "ok", "access": "programmatic", "mobile_phone": "12345"}, b"country code"),
        ({"name": "ok", "access": "console", "password": ""}, b"Password is mandatory"),
        ({"name": "admin", "access": "programmatic"}, b"does already exist"),
    ],
)
def test_bad_user_input_is_explained_and_nothing_is_written(tenant, admin, data, message):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    before = tenant.account.users.count()
    response = client.post("/console/users/new", data)
    assert response.status_code in (200, 400)
    assert message in response.content
    assert tenant.account.users.count() == before


def test_empty_login_form_gets_a_readable_message(tenant):
    response = Client().post("/console/login", {"login": "", "password": ""})
    assert response.status_code == 401
    assert b"Enter your login name" in response.content
