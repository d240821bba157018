"""The operator views: filters, keyset pages, detail, export, charts, integrity checks, and who
may see what."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent, IntegrityCheck
from audit.services import event_record, integrity_check_run
from policies.principal import RequestMeta
from tests.audit.tampering import raw
from tests.conftest import principal_for
from tests.test_view_matrix import SPECS, client_for, data_of, snapshot, url_of
from tests.test_view_matrix import world as world

pytestmark = pytest.mark.django_db


def _seed(tenant, n: int = 5, **kwargs) -> list[AuditEvent]:
    return [
        event_record(
            action=kwargs.get("action", f"test:Seed{i}"),
            account=tenant.account,
            **{k: v for k, v in kwargs.items() if k != "action"},
        )
        for i in range(n)
    ]


def _rows(response) -> list[str]:
    """The action column of the list page."""
    import re

    return re.findall(r"<td><code>([^<]+)</code></td>", response.content.decode())


def test_auditor_reads_overview_list_detail_and_export(tenant, auditor):
    events = _seed(tenant, 3)
    client = client_for(auditor)
    overview = client.get("/console/audit/")
    assert overview.status_code == 200
    body = overview.content.decode()
    assert body.count("<svg") == 3 and "Verify integrity" in body
    listing = client.get("/console/audit/events/")
    assert listing.status_code == 200 and "test:Seed2" in _rows(listing)
    detail = client.get(f"/console/audit/events/{events[0].pk}/")
    assert detail.status_code == 200 and events[0].hash in detail.content.decode()
    export = client.get("/console/audit/events/export?format=csv")
    assert export.status_code == 200 and export.streaming
    lookups = AuditEvent.objects.filter(actor_arn=auditor.arn, action="audit:LookupEvents")
    assert lookups.count() == 3
    assert AuditEvent.objects.filter(actor_arn=auditor.arn, action="audit:ExportEvents").exists()


def test_auditor_can_not_change_anything(world, auditor):
    client = client_for(auditor)
    for spec in SPECS:
        if spec.name == "audit_verify":
            continue  # auditors may verify integrity; it changes nothing in the account
        before = snapshot(world["tenant"])
        response = client.post(url_of(spec, world), data_of(spec, world))
        assert response.status_code == 403, spec.name
        assert snapshot(world["tenant"]) == before, spec.name


def test_auditor_needs_no_user_management_rights(auditor, tenant):
    client = client_for(auditor)
    assert client.get("/console/users/").status_code == 403
    assert client.get("/console/audit/sessions/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/console/audit/",
        "/console/audit/events/",
        "/console/audit/events/export",
        "/console/audit/sessions/",
    ],
)
def test_plain_user_may_not_read_the_audit_log(plain, url):
    response = client_for(plain).get(url)
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor_arn=plain.arn, outcome="denied").exists()


def test_anonymous_is_sent_to_login():
    for url in ("/console/audit/", "/console/audit/events/", "/console/audit/events/export"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/console/login")


def test_another_accounts_events_are_never_visible(tenant, other_tenant, auditor):
    theirs = _seed(other_tenant, 2, action="test:Secret")
    client = client_for(auditor)
    assert "test:Secret" not in _rows(client.get("/console/audit/events/?q=Secret"))
    assert client.get(f"/console/audit/events/{theirs[0].pk}/").status_code == 404
    export = b"".join(client.get("/console/audit/events/export?format=jsonl").streaming_content)
    assert b"test:Secret" not in export
    for line in export.decode().splitlines():
        assert json.loads(line)["account"] == tenant.account.uid


def test_filters(tenant, auditor):
    bob = tenant.make_user("bob")
    meta = RequestMeta(source_ip="203.0.113.9", user_agent="curl/8")
    event_record(
        action="console:Login",
        account=tenant.account,
        actor_arn=bob.arn,
        meta=meta,
        outcome="error",
        error_code="LoginFailed",
        details={"reason": "wrong_password"},
    )
    event_record(action="console:Login", account=tenant.account, actor_arn=bob.arn)
    event_record(action="ram:DeleteUser", actor=principal_for(tenant.root), target_arn=bob.arn)
    client = client_for(auditor)

    def actions(query: str) -> list[str]:
        return [
            a
            for a in _rows(client.get(f"/console/audit/events/?{query}"))
            if a != "audit:LookupEvents"
        ]

    assert actions("actor=bob&action=console:Login&outcome=failed") == ["console:Login"]
    assert actions(f"actor={bob.arn}&action=console:*") == ["console:Login", "console:Login"]
    assert actions("source_ip=203.0.113.9") == ["console:Login"]
    assert actions(f"target={bob.resource_arn}") == ["ram:DeleteUser", "ram:CreateUser"]
    assert actions("q=curl") == ["console:Login"]
    by_test_credential = actions("credential=test")
    assert "ram:DeleteUser" in by_test_credential and "console:Login" not in by_test_credential
    tomorrow = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert actions(f"since={tomorrow}") == []
    assert "ram:DeleteUser" in actions(f"until={tomorrow}")


def test_invalid_filters_are_explained_not_a_500(auditor):
    response = client_for(auditor).get("/console/audit/events/?source_ip=not-an-ip&since=yesterday")
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()
    export = client_for(auditor).get("/console/audit/events/export?source_ip=x")
    assert export.status_code == 400


def test_keyset_pages_walk_older_and_back(tenant, auditor):
    _seed(tenant, 120, action="test:Page")
    client = client_for(auditor)
    seen: list[int] = []
    url = "/console/audit/events/?action=test:Page"
    pages = []
    while url:
        response = client.get(url)
        page = response.context["page"]
        pages.append(page)
        seen += [e.pk for e in page.events]
        url = f"/console/audit/events/?action=test:Page&before={page.older}" if page.older else ""
    assert len(pages) == 3 and len(seen) == 120 and seen == sorted(seen, reverse=True)
    back = client.get(f"/console/audit/events/?action=test:Page&after={pages[2].newer}")
    assert [e.pk for e in back.context["page"].events] == [e.pk for e in pages[1].events]
    assert pages[0].newer is None and pages[2].older is None


def test_csv_export_streams_the_filter_and_neutralises_formulas(tenant, auditor):
    event_record(action="ram:CreateUser", account=tenant.account, target_arn='=HYPERLINK("x")')
    _seed(tenant, 3, action="test:Other")
    response = client_for(auditor).get(
        "/console/audit/events/export?format=csv&action=ram:CreateUser&q=HYPERLINK"
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["ram:CreateUser"]
    assert rows[0]["target_arn"] == '\'=HYPERLINK("x")'
    assert rows[0]["account"] == tenant.account.uid and len(rows[0]["hash"]) == 64
    export = AuditEvent.objects.filter(action="audit:ExportEvents").latest("id")
    assert export.details == {
        "filters": {"action": "ram:CreateUser", "q": "HYPERLINK"},
        "format": "csv",
    }


def test_jsonl_export_has_one_event_per_line_with_its_chain_fields(tenant, auditor):
    _seed(tenant, 4, action="test:Line")
    response = client_for(auditor).get("/console/audit/events/export?format=jsonl&action=test:Line")
    assert response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert len(lines) == 4 and lines[0]["seq"] == lines[1]["seq"] + 1
    assert lines[1]["hash"] == lines[0]["prev_hash"]


def test_charts_count_failed_logins_and_denials(tenant, auditor):
    event_record(action="console:Login", account=tenant.account, outcome="error")
    event_record(action="ram:GetUser", account=tenant.account, outcome="denied")
    response = client_for(auditor).get("/console/audit/")
    charts = response.context["charts"]
    assert [c["title"] for c in charts] == [
        "Events per day",
        "Failed sign-ins per day",
        "Denials per day",
    ]
    assert all(len(c["bars"]) == 30 for c in charts)
    assert charts[1]["bars"][-1].value == 1 and charts[2]["bars"][-1].value >= 1
    assert charts[0]["bars"][-1].value >= 2


def test_verify_integrity_runs_in_the_worker_and_reports(
    tenant, auditor, django_capture_on_commit_callbacks
):
    events = _seed(tenant, 3)
    client = client_for(auditor)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post("/console/audit/verify")
    assert response.status_code == 302 and len(queued) == 1
    check = IntegrityCheck.objects.get()
    page = client.get(response["Location"])
    assert 'http-equiv="refresh"' in page.content.decode() and check.status == "queued"
    integrity_check_run(check.pk)
    check.refresh_from_db()
    assert check.status == "intact" and check.checked >= 3
    page = client.get(response["Location"])
    assert (
        "Intact." in page.content.decode() and 'http-equiv="refresh"' not in page.content.decode()
    )
    raw("UPDATE audit_auditevent SET actor_arn = 'someone-else' WHERE id = %s", [events[1].pk])
    with django_capture_on_commit_callbacks():
        response = client.post("/console/audit/verify")
    broken = IntegrityCheck.objects.latest("id")
    integrity_check_run(broken.pk)
    page = client.get(response["Location"]).content.decode()
    assert "The chain is broken." in page and f"#{events[1].seq}" in page
    assert AuditEvent.objects.filter(
        action="audit:VerifyIntegrity", error_code="AuditChainBroken"
    ).exists()


def test_a_redelivered_check_runs_once(tenant, auditor):
    from audit.services import integrity_check_request

    check = integrity_check_request(actor=principal_for(auditor))
    integrity_check_run(check.pk)
    integrity_check_run(check.pk)
    assert (
        AuditEvent.objects.filter(action="audit:VerifyIntegrity", actor_kind="worker").count() == 1
    )


def test_links_from_users_roles_and_keys(tenant, admin):
    bob = tenant.make_user("bob")
    page = client_for(admin).get(f"/console/users/{bob.name}/").content.decode()
    assert "/console/audit/events/?actor=" in page and "/console/audit/events/?target=" in page


def test_charts_include_past_days_and_cache_them(tenant, auditor, django_assert_max_num_queries):
    import time_machine

    from audit.selectors import daily_counts

    with time_machine.travel(timezone.now() - timedelta(days=3)):
        event_record(action="ram:GetUser", account=tenant.account, outcome="denied")
    first = daily_counts(tenant.account.pk)
    assert first[-4].denials == 1 and first[-4].events == 1
    with django_assert_max_num_queries(2):  # today only (plus the cache on the database)
        again = daily_counts(tenant.account.pk)
    assert again == first
