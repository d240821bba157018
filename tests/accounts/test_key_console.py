"""AccessKeys in the console: step-up, one-time reveal, root's own keys."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.models import AccessKey, User
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(login: str, password: str) -> Client:
    client = Client()
    assert client.post("/console/login", {"login": login, "password": password}).status_code == 302
    return client


def age_session_auth(client: Client, seconds: int = 600) -> None:
    session = client.session
    session["reauthenticated_at"] = int(time.time()) - seconds
    session.save()


@pytest.fixture
def robo(tenant):
    user = tenant.make_user("robo", console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    return user


def test_creating_a_key_needs_a_recent_password(tenant, admin, robo):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    age_session_auth(client)
    response = client.post("/console/users/robo/access-keys/new")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/reauth?next=")
    assert not AccessKey.objects.exists()
    wrong = client.post(
        "/console/reauth", {"password": "wrong", "next": "/console/users/robo/access-keys/new"}
    )
    assert wrong.status_code == 401 and b"The password is incorrect" in wrong.content
    ok = client.post(
        "/console/reauth", {"password": PASSWORD, "next": "/console/users/robo/access-keys/new"}
    )
    assert ok["Location"] == "/console/users/robo/access-keys/new"
    reveal = client.post("/console/users/robo/access-keys/new")
    assert reveal.status_code == 200 and "no-store" in reveal["Cache-Control"]
    key = AccessKey.objects.get(user=robo)
    secret = reveal.context["secret"]
    assert f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}".encode() in reveal.content
    detail = client.get("/console/users/robo/")
    assert key.access_key_id.encode() in detail.content
    assert secret.encode() not in detail.content  # shown once, never again
    outcomes = list(
        AuditEvent.objects.filter(action="console:Reauthenticate").values_list("outcome", flat=True)
    )
    assert sorted(outcomes) == ["error", "success"]


def test_reauth_next_must_stay_in_the_console(tenant, admin):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    response = client.post(
        "/console/reauth", {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/console/"


def test_root_sees_a_strong_warning_for_its_own_keys(tenant):
    client = sign_in("root@acme.example", tenant.root_password)
    page = client.get("/console/credentials/")
    assert b"Root AccessKeys are dangerous" in page.content
    reveal = client.post("/console/credentials/access-keys/new")
    assert reveal.status_code == 200
    assert AccessKey.objects.filter(user=tenant.root).count() == 1


def test_disable_and_delete_from_the_console(tenant, admin, robo):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    client.post("/console/users/robo/access-keys/new")
    key = AccessKey.objects.get(user=robo)
    base = f"/console/users/robo/access-keys/{key.access_key_id}"
    client.post(f"{base}/status", {"status": "Inactive"})
    assert AccessKey.objects.get(pk=key.pk).status == "Inactive"
    confirm = client.get(f"{base}/delete")
    assert b"Delete AccessKey" in confirm.content and b"never been used" in confirm.content
    client.post(f"{base}/delete")
    assert not AccessKey.objects.filter(pk=key.pk).exists()


def test_console_only_user_gets_a_readable_refusal(tenant, admin):
    tenant.make_user("person")
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    response = client.post("/console/users/person/access-keys/new", follow=True)
    assert b"has no programmatic access" in response.content
