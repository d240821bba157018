"""AccessKeys in the console: step-up, one-time reveal, root's own keys."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from accounts.access_keys import access_key_secret
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
    created = client.post("/console/users/robo/access-keys/new")
    key = AccessKey.objects.get(user=robo)
    assert created.status_code == 302
    assert created["Location"] == f"/console/users/robo/access-keys/new?created={key.access_key_id}"
    reveal = client.get(created["Location"])
    assert reveal.status_code == 200 and "no-store" in reveal["Cache-Control"]
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
    reveal = client.post("/console/credentials/access-keys/new", follow=True)
    assert reveal.status_code == 200 and reveal.context["secret"]
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


def test_reloading_the_secret_page_shows_no_secret_and_creates_no_key(tenant, admin, robo):
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    created = client.post("/console/users/robo/access-keys/new")
    key = AccessKey.objects.get(user=robo)
    secret = client.get(created["Location"]).context["secret"]
    assert secret and access_key_secret(AccessKey.objects.get(pk=key.pk)) == secret
    again = client.get(created["Location"])
    assert again.status_code == 200 and "no-store" in again["Cache-Control"]
    assert again.context["secret"] is None
    assert b"The secret was shown once" in again.content and secret.encode() not in again.content
    assert AccessKey.objects.filter(user=robo).count() == 1
    # the held secret is sealed in the session, never stored in clear
    created = client.post("/console/users/robo/access-keys/new")
    assert AccessKey.objects.filter(user=robo).count() == 2
    assert "access_key_reveal" in client.session
    held = str(dict(client.session))
    secret = client.get(created["Location"]).context["secret"]
    assert secret not in held and "access_key_reveal" not in client.session


def test_a_held_secret_is_shown_only_for_its_own_key_and_owner(tenant, admin, robo):
    other = tenant.make_user("robo2", console=False)
    User.objects.filter(pk=other.pk).update(programmatic_access=True)
    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    created = client.post("/console/users/robo/access-keys/new")
    key = AccessKey.objects.get(user=robo)
    wrong_owner = client.get(f"/console/users/robo2/access-keys/new?created={key.access_key_id}")
    assert wrong_owner.status_code == 404
    assert client.get(created["Location"]).context["secret"]


def test_a_key_used_only_for_a_denied_call_shows_when_it_was_last_used(tenant, admin, robo):
    from tests.openapi.conftest import Api

    client = sign_in("admin@acme.iam.localhost", PASSWORD)
    created = client.post("/console/users/robo/access-keys/new")
    key = AccessKey.objects.get(user=robo)
    api = Api(key.access_key_id, client.get(created["Location"]).context["secret"])
    refused = api.v1("ListUsers")
    assert refused.status_code == 403 and refused.json()["Code"] == "NoPermission"
    assert AuditEvent.objects.filter(action="ram:ListUsers", outcome="denied").exists()
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_action == "ListUsers"
    confirm = client.get(f"/console/users/robo/access-keys/{key.access_key_id}/delete")
    assert b"never been used" not in confirm.content
    assert f"Last used {key.last_used_at:%Y-%m-%d %H:%M} UTC".encode() in confirm.content
