"""The per-account switch for allowed resource-service decisions ("data events"), on the audit
overview beside retention: who may flip it, its audit trail, and that it bites on the next
decision a live service asks for."""

from __future__ import annotations

import json

import pytest

from accounts.errors import IamError
from accounts.models import User
from audit.models import AuditEvent
from resource_services.models import DataEventSetting
from resource_services.services import data_events_set
from tests.conftest import principal_for
from tests.resource_services.conftest import CallError, grant, tea_call
from tests.test_view_matrix import client_for

URL = "/console/audit/data-events"


@pytest.mark.django_db
def test_the_overview_shows_the_switch_to_who_may_flip_it(tenant, admin, auditor):
    page = client_for(admin).get("/console/audit/").content.decode()
    panel = page.split('id="data-events"', 1)[1]
    assert 'action="/console/audit/data-events"' in panel
    assert 'name="record_allowed"' in panel and "checked" in panel  # the default: recorded
    assert "recorded</span>" in panel
    read_only = client_for(auditor).get("/console/audit/").content.decode()
    panel = read_only.split('id="data-events"', 1)[1]
    assert "recorded</span>" in panel and "/console/audit/data-events" not in panel
    assert client_for(auditor).post(URL, {}).status_code == 403
    assert not DataEventSetting.objects.exists()


@pytest.mark.django_db
def test_switching_off_and_on_is_audited(tenant, admin):
    client = client_for(admin)
    off = client.post(URL, {})
    assert off.status_code == 302 and off["Location"] == "/console/audit/"
    assert DataEventSetting.objects.get(account=tenant.account).record_allowed is False
    event = AuditEvent.objects.get(action="audit:SetDataEvents")
    assert event.actor_arn == admin.arn
    assert event.target_arn == f"acs:audit:*:{tenant.account.uid}:event/*"
    assert event.details == {
        "before": {"record_allowed": True},
        "after": {"record_allowed": False},
    }
    page = client.get("/console/audit/").content.decode().split('id="data-events"', 1)[1]
    assert "not recorded</span>" in page and "checked" not in page.split("</form>")[0]
    client.post(URL, {"record_allowed": "on"})
    assert DataEventSetting.objects.get(account=tenant.account).record_allowed is True
    assert AuditEvent.objects.filter(action="audit:SetDataEvents").count() == 2


@pytest.mark.django_db
def test_the_service_checks_the_permission_on_the_accounts_audit_log(tenant, plain, outsider):
    for actor in (principal_for(plain), principal_for(outsider)):
        with pytest.raises(IamError):
            data_events_set(actor=actor, account=tenant.account, record_allowed=False)
    assert not DataEventSetting.objects.exists()
    assert not AuditEvent.objects.filter(action="audit:SetDataEvents", outcome="success")


def reader_policy(uid: str) -> dict:
    statement = {
        "Effect": "Allow",
        "Action": "oss:GetObject",
        "Resource": f"acs:oss:*:{uid}:b1/*",
    }
    return {"Version": "1", "Statement": [statement]}


@pytest.mark.django_db(transaction=True)
def test_the_switch_bites_on_the_next_decision(tenant, admin, auditor, api_for, guarded):
    robot = tenant.make_user("robot", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    api = api_for(robot)
    grant(tenant, robot, reader_policy(tenant.account.uid))
    endpoint = guarded(tenant.account.uid)

    def get(key: str) -> None:
        tea_call(endpoint, api.key_id, api.secret, "GetObject", {"Bucket": "b1", "Key": key})

    get("before")
    client_for(admin).post(URL, {})
    get("after")
    with pytest.raises(CallError):
        tea_call(endpoint, api.key_id, api.secret, "PutObject", {"Bucket": "b1", "Key": "x"})
    decided = AuditEvent.objects.filter(details__service="oss.example").order_by("id")
    assert [(e.action, e.outcome, e.target_arn.rsplit("/", 1)[1]) for e in decided] == [
        ("oss:GetObject", "success", "before"),
        ("oss:PutObject", "denied", "x"),
    ]
    # The auditor finds them by the service that asked, in the list and in an export.
    listing = client_for(auditor).get("/console/audit/events/?service=oss.example")
    assert [e.pk for e in listing.context["page"].events] == [e.pk for e in decided][::-1]
    assert '<a class="badge service" href="?service=oss.example"' in listing.content.decode()
    export = client_for(auditor).get(
        "/console/audit/events/export?format=jsonl&service=oss.example"
    )
    lines = [json.loads(line) for line in b"".join(export.streaming_content).splitlines()]
    assert [line["details"]["decision"] for line in lines] == ["ImplicitDeny", "Allow"]
