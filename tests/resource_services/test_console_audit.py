"""The audit log shows which resource service asked for a decision, and filters by it: in the
list (keyset pages included), on the event's page and in the exports."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from audit.models import AuditEvent
from audit.services import event_record
from tests.conftest import principal_for
from tests.test_view_matrix import client_for

pytestmark = pytest.mark.django_db


def decision(tenant, caller, service: str, action: str, key: str, allowed: bool = True):
    """An event as resource_services.decisions records it for the resource owner."""
    resource = f"acs:{action.split(':')[0]}:*:{tenant.account.uid}:b1/{key}"
    statement = {
        "policy": "oss-access",
        "type": "Custom",
        "version": "v1",
        "via": "",
        "index": 0,
        "sid": "ReadBucket",
    }
    return event_record(
        action=action,
        actor=principal_for(caller),
        target_arn=resource,
        outcome=AuditEvent.Outcome.SUCCESS if allowed else AuditEvent.Outcome.DENIED,
        error_code="" if allowed else "NoPermission",
        details={
            "service": service,
            "resources": [resource],
            "decision": "Allow" if allowed else "ExplicitDeny",
            "statement": statement,
        },
    )


def targets(response) -> list[str]:
    return [e.target_arn for e in response.context["page"].events]


def test_the_list_shows_and_filters_by_the_service_that_asked(tenant, auditor):
    bob = tenant.make_user("bob")
    decision(tenant, bob, "oss.example", "oss:GetObject", "k1")
    decision(tenant, bob, "fc.example", "fc:InvokeFunction", "f1")
    decision(tenant, bob, "oss.example", "oss:PutObject", "k2", allowed=False)
    client = client_for(auditor)
    everything = client.get("/console/audit/events/")
    html = everything.content.decode()
    assert "<th>Service</th>" in html
    assert re.search(
        r'<a class="badge service" href="\?service=oss.example"[^>]*>oss.example<', html
    )
    assert ">fc.example<" in html
    filtered = client.get("/console/audit/events/?service=oss.example")
    assert filtered.status_code == 200
    assert [t.rsplit("/", 1)[1] for t in targets(filtered)] == ["k2", "k1"]
    assert 'value="oss.example"' in filtered.content.decode()  # the form keeps the filter
    # Combined with other filters; upper case is the same service.
    denied = client.get("/console/audit/events/?service=OSS.example&outcome=denied")
    assert [t.rsplit("/", 1)[1] for t in targets(denied)] == ["k2"]
    assert targets(client.get("/console/audit/events/?service=ecs.example")) == []
    lookup = AuditEvent.objects.filter(action="audit:LookupEvents").latest("id")
    assert lookup.details["filters"] == {"service": "ecs.example"}


def test_keyset_pages_keep_the_service_filter(tenant, auditor):
    bob = tenant.make_user("bob")
    for i in range(60):
        decision(tenant, bob, "oss.example", "oss:GetObject", f"k{i}")
        decision(tenant, bob, "fc.example", "fc:InvokeFunction", f"f{i}")
    client = client_for(auditor)
    first = client.get("/console/audit/events/?service=oss.example")
    older = re.search(r'href="\?([^"]*before=\d+)">Older', first.content.decode())
    assert older is not None and "service=oss.example" in older.group(1)
    second = client.get("/console/audit/events/?" + older.group(1).replace("&amp;", "&"))
    seen = targets(first) + targets(second)
    assert len(targets(first)) == 50 and len(seen) == 60
    assert {t.rsplit("/", 1)[1] for t in seen} == {f"k{i}" for i in range(60)}
    assert second.context["page"].older is None
    newer = re.search(r'href="\?([^"]*after=\d+)">Newer', second.content.decode())
    assert newer is not None and "service=oss.example" in newer.group(1)
    back = client.get("/console/audit/events/?" + newer.group(1).replace("&amp;", "&"))
    assert targets(back) == targets(first)


def test_the_event_page_names_the_service_and_the_deciding_statement(tenant, auditor):
    bob = tenant.make_user("bob")
    event = decision(tenant, bob, "oss.example", "oss:GetObject", "k1")
    html = client_for(auditor).get(f"/console/audit/events/{event.pk}/").content.decode()
    assert "<dt>Service</dt>" in html
    assert '<a href="/console/audit/events/?service=oss.example"><code>oss.example</code>' in html
    assert "asked whether this request may proceed: Allow" in html
    assert "Custom policy oss-access (v1), statement 0 <code>ReadBucket</code>" in html
    plain = event_record(action="ram:CreateUser", account=tenant.account)
    other = client_for(auditor).get(f"/console/audit/events/{plain.pk}/").content.decode()
    assert "<dt>Service</dt>" not in other


def test_exports_apply_the_service_filter(tenant, auditor):
    bob = tenant.make_user("bob")
    decision(tenant, bob, "oss.example", "oss:GetObject", "k1")
    decision(tenant, bob, "fc.example", "fc:InvokeFunction", "f1")
    client = client_for(auditor)
    listing = client.get("/console/audit/events/?service=oss.example").content.decode()
    assert "export?format=csv&amp;service=oss.example" in listing
    response = client.get("/console/audit/events/export?format=csv&service=oss.example")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["oss:GetObject"]
    assert json.loads(rows[0]["details"])["service"] == "oss.example"
    jsonl = client.get("/console/audit/events/export?format=jsonl&service=fc.example")
    lines = [json.loads(line) for line in b"".join(jsonl.streaming_content).splitlines()]
    assert [line["action"] for line in lines] == ["fc:InvokeFunction"]
    export = AuditEvent.objects.filter(action="audit:ExportEvents").latest("id")
    assert export.details == {"filters": {"service": "fc.example"}, "format": "jsonl"}


def test_the_service_filter_is_bounded(auditor):
    client = client_for(auditor)
    response = client.get("/console/audit/events/?service=" + "x" * 200)
    assert response.status_code == 200 and "Some filters are not valid" in response.content.decode()
    assert client.get("/console/audit/events/export?service=" + "x" * 200).status_code == 400
