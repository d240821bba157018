"""A real worker runs the integrity check a console operator asks for, and the retention task."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent, IntegrityCheck
from tests.conftest import PASSWORD
from tests.worker.test_expiry import wait_for
from tests.worker.test_expiry import workers as workers


@pytest.mark.django_db(transaction=True)
def test_verify_integrity_from_the_console_is_run_by_a_worker(tenant, auditor, workers):
    client = Client()
    client.post("/console/login", {"login": "auditor@acme.iam.localhost", "password": PASSWORD})
    workers(1)
    response = client.post("/console/audit/verify")
    assert response.status_code == 302
    check = IntegrityCheck.objects.get()
    assert wait_for(lambda: IntegrityCheck.objects.get(pk=check.pk).status == "intact")
    page = client.get(response["Location"]).content.decode()
    assert "Intact." in page
    assert AuditEvent.objects.filter(action="audit:VerifyIntegrity", actor_kind="worker").exists()
