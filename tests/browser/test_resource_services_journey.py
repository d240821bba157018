"""In Chromium: an administrator sees the services that assumed a role and revokes one's
session (confirmed first), simulates a service action and switches data events off; an auditor
filters the audit log by the service that asked and opens a decision."""

from __future__ import annotations

import json

import pytest

from audit.services import event_record
from policies.principal import RequestMeta
from policies.services import policy_attach, policy_create
from roles.services import role_create
from sts.models import StsSession
from sts.service_principals import service_create, service_record
from sts.services import assume_role
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, make_tenant, principal_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup():
    tenant = make_tenant("initech")
    tenant.make_user("admin", "AdministratorAccess")
    tenant.make_user("auditor", "AuditReadOnlyAccess")
    bob = tenant.make_user("bob")
    uid, root = tenant.account.uid, tenant.root_principal
    document = {
        "Version": "1",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"}
        ],
    }
    policy = policy_create(actor=root, name="oss-read", document=json.dumps(document))
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
    role = role_create(actor=root, name="runtime", trust_policy=json.dumps(trust))
    record, _ = service_create(name="fc.example")
    service_create(name="oss.example")
    found = service_record(record.access_key_id)
    assert found is not None
    session = assume_role(
        actor=found.principal(RequestMeta()), role_arn=role.arn, session_name="invocation-7"
    ).session
    for key, allowed in (("k1", True), ("k2", False)):
        event_record(
            action="oss:GetObject",
            actor=principal_for(bob),
            target_arn=f"acs:oss:*:{uid}:b1/{key}",
            outcome="success" if allowed else "denied",
            error_code="" if allowed else "NoPermission",
            details={
                "service": "oss.example",
                "resources": [f"acs:oss:*:{uid}:b1/{key}"],
                "decision": "Allow" if allowed else "ImplicitDeny",
                "statement": None,
            },
        )
    return tenant, session


def _sign_in(browser, base: str, login: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/console/login")
    page.fill("#id_login", login)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    return context, page


def test_administrator_and_auditor_walk_the_service_pages(live_server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tenant, session = _setup()
    base = live_server.url

    context, page = _sign_in(browser, base, "admin@initech.iam.localhost")
    page.goto(f"{base}/console/roles/runtime/")
    services = page.locator("#services")
    assert "fc.example" in services.text_content()
    assert session.access_key_id in services.text_content()
    page.screenshot(path=str(ARTIFACTS / "60-role-services.png"), full_page=True)
    services.locator("a:has-text('Revoke')").click()
    page.wait_for_url("**/revoke")
    assert "Revoke session invocation-7 of runtime?" in page.text_content("h1")
    page.click("button:has-text('Revoke session')")
    page.wait_for_url(f"{base}/console/roles/runtime/")
    assert session.access_key_id not in page.locator("#services").text_content()
    assert StsSession.objects.get(pk=session.pk).revoked_at is not None

    page.goto(f"{base}/console/simulator/")
    page.fill("#id_principal", "bob")
    page.fill("#id_actions", "oss:GetObject\noss:PutObject")
    page.fill("#id_resource", f"acs:oss:*:{tenant.account.uid}:b1/k1")
    page.click("button:has-text('Simulate')")
    results = page.locator("#results").text_content()
    assert "oss.example" in results and "Allow" in results and "Implicit deny" in results
    assert "Custom policy oss-read (v1), attached directly" in results
    page.screenshot(path=str(ARTIFACTS / "61-simulator-service.png"), full_page=True)

    page.goto(f"{base}/console/audit/")
    panel = page.locator("#data-events")
    assert panel.locator("input[name=record_allowed]").is_checked()
    panel.locator("input[name=record_allowed]").uncheck()
    panel.locator("button:has-text('Save')").click()
    if "/console/reauth" in page.url:  # the password was entered too long ago
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/audit/")
    assert "not recorded" in page.locator("#data-events").text_content()
    page.screenshot(path=str(ARTIFACTS / "62-data-events.png"), full_page=True)
    context.close()

    context, page = _sign_in(browser, base, "auditor@initech.iam.localhost")
    page.goto(f"{base}/console/audit/")
    assert page.locator("#data-events form").count() == 0  # read-only
    page.goto(f"{base}/console/audit/events/")
    page.fill("#id_service", "oss.example")
    page.click("button:has-text('Apply filters')")
    page.wait_for_url("**service=oss.example**")
    rows = page.locator("table.events tbody tr")
    assert rows.count() == 2
    assert all("oss.example" in rows.nth(i).text_content() for i in range(2))
    page.screenshot(path=str(ARTIFACTS / "63-audit-by-service.png"), full_page=True)
    rows.first.locator("a:has-text('Details')").click()
    page.wait_for_url("**/console/audit/events/*/")
    body = page.text_content("main") or page.content()
    assert "oss.example" in body and "ImplicitDeny" in body
    context.close()
