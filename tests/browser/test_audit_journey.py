"""An auditor signs in, filters the audit log to one user's failed sign-ins, opens an event,
and exports the filtered events as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.login import login_attempt
from policies.principal import RequestMeta
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_auditor_filters_failed_logins_opens_one_and_exports(live_server, browser):
    tenant = make_tenant("umbrella")
    tenant.make_user("auditor", "AuditReadOnlyAccess")
    tenant.make_user("wesker")
    tenant.make_user("alice")
    for ip in ("203.0.113.5", "203.0.113.6"):
        login_attempt(
            identifier="wesker@umbrella.iam.localhost",
            password="wrong password guess",
            meta=RequestMeta(source_ip=ip, user_agent="curl/8.5"),
        )
    login_attempt(
        identifier="alice@umbrella.iam.localhost",
        password="wrong again, alice",
        meta=RequestMeta(source_ip="198.51.100.1", user_agent="curl/8.5"),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url

    page.goto(f"{base}/console/login")
    page.fill("#id_login", "auditor@umbrella.iam.localhost")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    page.click("nav >> text=Audit log")
    page.wait_for_url("**/console/audit/")
    assert page.locator("svg[role=img]").count() == 3
    page.screenshot(path=str(ARTIFACTS / "20-audit-overview.png"), full_page=True)

    page.click("a.btn:has-text('Events')")
    page.fill("#id_actor", "wesker")
    page.fill("#id_action", "console:Login")
    page.select_option("#id_outcome", "failed")
    page.click("button:has-text('Apply filters')")
    page.wait_for_url("**outcome=failed**")
    rows = page.locator("table.events tbody tr")
    assert rows.count() == 2
    assert "alice" not in page.text_content("table.events")
    page.screenshot(path=str(ARTIFACTS / "21-audit-filtered.png"), full_page=True)

    rows.first.locator("a:has-text('Details')").click()
    page.wait_for_url("**/console/audit/events/*/")
    body = page.text_content("main") or page.content()
    assert "console:Login" in body and "wrong_password" in body and "LoginFailed" in body
    page.screenshot(path=str(ARTIFACTS / "22-audit-event.png"), full_page=True)
    page.go_back()

    with page.expect_download() as download:
        page.click("#export-csv")
    path = download.value.path()
    with open(path, encoding="utf-8") as handle:
        exported = list(csv.DictReader(io.StringIO(handle.read())))
    assert download.value.suggested_filename.endswith(".csv")
    assert [row["action"] for row in exported] == ["console:Login", "console:Login"]
    assert {row["source_ip"] for row in exported} == {"203.0.113.5", "203.0.113.6"}
    assert all(row["outcome"] == "error" and "wesker" in row["actor_arn"] for row in exported)
    context.close()
