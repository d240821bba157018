"""Retention: old events go to an archive behind a checkpoint, then away; the chain stays
verifiable from the checkpoint, and the archive verifies on its own."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.integrity import verify_chain
from audit.models import AuditCheckpoint, AuditEvent
from audit.retention import archive_expired, verify_archive
from audit.services import event_record
from audit.tasks import archive_expired_events
from housekeeping.models import TaskRun
from tests.audit.tampering import raw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path):
    settings.IAM_AUDIT_ARCHIVE_DIR = str(tmp_path / "archive")


def _old_and_new(tenant, old: int = 5, new: int = 3):
    with time_machine.travel(timezone.now() - timedelta(days=200)):
        for i in range(old):
            event_record(action="test:Old", account=tenant.account, details={"i": i})
    for i in range(new):
        event_record(action="test:New", account=tenant.account, details={"i": i})


def test_old_events_are_archived_then_pruned_and_the_chain_still_verifies(tenant):
    _old_and_new(tenant)
    before = AuditEvent.objects.filter(chain=tenant.account.pk).count()
    # Archives are contiguous in sequence: everything up to the newest expired event goes.
    expected = AuditEvent.objects.filter(action="test:Old").order_by("-seq")[0].seq
    result = archive_expired(tenant.account)
    assert result.events == expected and result.pruned == expected and not result.error
    assert not AuditEvent.objects.filter(action="test:Old").exists()
    assert AuditEvent.objects.filter(chain=tenant.account.pk).count() == before - expected + 1
    checkpoint = AuditCheckpoint.objects.get(chain=tenant.account.pk)
    verdict = verify_chain(tenant.account.pk)
    assert verdict.intact and verdict.start.seq == checkpoint.seq
    path = Path(result.archive)
    lines = path.read_text().splitlines()
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    assert header["account"] == tenant.account.uid and header["from_seq"] == 1
    assert trailer == {"head_seq": expected, "head_hash": checkpoint.hash, "events": expected}
    assert verify_archive(path) == (True, f"{expected} events #1–#{expected}, intact")
    event = AuditEvent.objects.get(action="audit:ArchiveEvents")
    assert event.details["sha256"] == checkpoint.archive_sha256


def test_a_second_run_continues_from_the_checkpoint(tenant):
    _old_and_new(tenant)
    archive_expired(tenant.account)
    assert archive_expired(tenant.account).events == 0
    with time_machine.travel(timezone.now() + timedelta(days=200)):
        second = archive_expired(tenant.account)
    assert second.events > 0 and AuditCheckpoint.objects.count() == 2
    assert verify_chain(tenant.account.pk).intact
    first, last = AuditCheckpoint.objects.order_by("seq")
    assert last.first_seq == first.seq + 1


def test_an_archive_edited_afterwards_fails_verification(tenant, capsys):
    _old_and_new(tenant)
    path = Path(archive_expired(tenant.account).archive)
    lines = path.read_text().splitlines()
    row = json.loads(lines[2])
    row["outcome"] = "denied"
    lines[2] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError):
        call_command("verifyaudit", "--archive", str(path))
    assert "broken at #2" in capsys.readouterr().out


def test_a_broken_chain_is_never_archived_or_pruned(tenant):
    _old_and_new(tenant)
    victim = AuditEvent.objects.filter(action="test:Old").order_by("seq")[1]
    raw("UPDATE audit_auditevent SET action = 'test:Forged' WHERE id = %s", [victim.pk])
    result = archive_expired(tenant.account)
    assert "chain broken" in result.error and result.events == 0
    assert AuditEvent.objects.filter(action="test:Old").count() == 4
    assert not AuditCheckpoint.objects.exists()
    assert not list(Path(result.archive or ".").glob("*.partial"))


def test_retention_is_per_account(tenant, other_tenant):
    _old_and_new(tenant)
    with time_machine.travel(timezone.now() - timedelta(days=200)):
        event_record(action="test:Old", account=other_tenant.account)
    other_tenant.account.audit_retention_days = 365
    other_tenant.account.save()
    archive_expired_events()
    assert AuditEvent.objects.filter(action="test:Old", chain=other_tenant.account.pk).exists()
    assert not AuditEvent.objects.filter(action="test:Old", chain=tenant.account.pk).exists()
    run = TaskRun.objects.get(task="audit.archive_expired_events")
    assert run.outcome == "success" and run.details["archived"] >= 5
    assert AuditCheckpoint.objects.filter(chain=other_tenant.account.pk).count() == 0
