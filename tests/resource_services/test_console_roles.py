"""A role's page shows the registered services that assumed it and their live sessions;
revoking one of them is confirmed first and audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from policies.principal import Principal, RequestMeta
from roles.services import role_create
from sts.models import StsSession
from sts.service_principals import service_create, service_record
from sts.services import assume_role
from tests.conftest import principal_for
from tests.test_view_matrix import client_for

pytestmark = pytest.mark.django_db


def service_role(tenant, name: str, *services: str):
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Service": list(services), "RAM": [f"acs:ram::{tenant.account.uid}:root"]},
    }
    document = json.dumps({"Version": "1", "Statement": [statement]})
    return role_create(actor=tenant.root_principal, name=name, trust_policy=document)


def service_actor(name: str) -> Principal:
    """A newly registered service, as it signs in to assume roles."""
    record, _ = service_create(name=name)
    found = service_record(record.access_key_id)
    assert found is not None
    return found.principal(RequestMeta(source_ip="127.0.0.9"))


@pytest.fixture
def uses(tenant, admin):
    """fc.example: a revoked then a live session; oss.example: one expired session only;
    a RAM user's session beside them."""
    role = service_role(tenant, "runtime", "fc.example", "oss.example")
    fc = service_actor("fc.example")
    gone = assume_role(actor=fc, role_arn=role.arn, session_name="invocation-1").session
    StsSession.objects.filter(pk=gone.pk).update(revoked_at=timezone.now())
    live = assume_role(actor=fc, role_arn=role.arn, session_name="invocation-2").session
    oss = service_actor("oss.example")
    old = assume_role(actor=oss, role_arn=role.arn, session_name="replica").session
    past = timezone.now() - timedelta(days=2)
    StsSession.objects.filter(pk=old.pk).update(created_at=past, expires_at=past)
    dev = tenant.make_user("dev", "AliyunSTSAssumeRoleAccess")
    human = assume_role(actor=principal_for(dev), role_arn=role.arn, session_name="laptop").session
    return {"role": role, "live": live, "gone": gone, "old": old, "human": human}


def _services_panel(html: str) -> str:
    return html.split('id="services"', 1)[1]


def test_role_page_lists_the_services_that_assumed_it(tenant, admin, uses):
    response = client_for(admin).get("/console/roles/runtime/")
    assert response.status_code == 200
    panel = _services_panel(response.content.decode())
    # Most recent first, each with when it last assumed the role.
    assert panel.index("fc.example") < panel.index("oss.example")
    live, gone, old = uses["live"], uses["gone"], uses["old"]
    last_fc = StsSession.objects.get(pk=live.pk).created_at
    assert f"{last_fc:%Y-%m-%d %H:%M:%S}" in panel
    assert f"{StsSession.objects.get(pk=old.pk).created_at:%Y-%m-%d %H:%M:%S}" in panel
    # Only live sessions are listed, with a revoke link (a confirmation page).
    assert live.access_key_id in panel
    assert gone.access_key_id not in panel and old.access_key_id not in panel
    assert uses["human"].access_key_id not in panel  # a RAM user is not a service
    assert f"/console/roles/runtime/sessions/{live.access_key_id}/revoke" in panel
    assert "/console/audit/events/?service=fc.example" in panel


def test_a_role_no_service_assumed_says_so(tenant, admin):
    service_role(tenant, "lonely", "fc.example")
    body = client_for(admin).get("/console/roles/lonely/").content.decode()
    assert "No service has assumed this role." in _services_panel(body)


def test_revoking_a_service_session_is_confirmed_first(tenant, admin, uses):
    live = uses["live"]
    url = f"/console/roles/runtime/sessions/{live.access_key_id}/revoke"
    client = client_for(admin)
    page = client.get(url)
    assert page.status_code == 200 and b"Revoke session invocation-2 of runtime?" in page.content
    assert b"acs:ram:::service/fc.example" in page.content
    assert StsSession.objects.get(pk=live.pk).revoked_at is None  # asking changed nothing
    done = client.post(url)
    assert done.status_code == 302 and done["Location"] == "/console/roles/runtime/"
    assert StsSession.objects.get(pk=live.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="sts:RevokeSession", actor_arn=admin.arn)
    assert event.details["access_key_id"] == live.access_key_id
    panel = _services_panel(client.get("/console/roles/runtime/").content.decode())
    assert live.access_key_id not in panel and "fc.example" in panel


def test_who_may_not_revoke_does_not_see_the_confirmation(tenant, plain, uses, outsider):
    url = f"/console/roles/runtime/sessions/{uses['live'].access_key_id}/revoke"
    assert client_for(plain).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url)["Location"].startswith("/console/login")
    assert StsSession.objects.get(pk=uses["live"].pk).revoked_at is None
