"""The per-account hash chain: linking, verification, tamper detection, append-only."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.chain import GENESIS, event_hash
from audit.integrity import verify_chain
from audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from audit.services import event_record
from tests.audit.tampering import raw
from tests.conftest import make_tenant


def _record(account, n: int, **extra) -> list[AuditEvent]:
    return [
        event_record(action=f"test:Event{i}", account=account, details={"i": i, **extra})
        for i in range(n)
    ]


def test_events_link_per_account(tenant, other_tenant):
    base = AuditEvent.objects.filter(chain=tenant.account.pk).count()
    mine = _record(tenant.account, 3)
    theirs = _record(other_tenant.account, 2)
    assert [e.seq for e in mine] == [base + 1, base + 2, base + 3]
    assert mine[1].prev_hash == mine[0].hash and mine[2].prev_hash == mine[1].hash
    assert theirs[0].chain == other_tenant.account.pk
    stored = AuditEvent.objects.get(pk=mine[2].pk)
    assert event_hash(stored.prev_hash, stored.__dict__) == stored.hash
    head = AuditChainHead.objects.get(chain=tenant.account.pk)
    assert (head.seq, head.head_hash) == (mine[2].seq, mine[2].hash)
    assert verify_chain(tenant.account.pk).intact
    assert verify_chain(other_tenant.account.pk).intact


def test_events_of_no_account_have_their_own_chain(db):
    first = event_record(action="console:Login", outcome="error", details={"reason": "x"})
    second = event_record(action="console:Login", outcome="error")
    assert first.chain == 0 and second.prev_hash == first.hash
    assert verify_chain(0).intact


def test_unicode_control_characters_and_odd_details_survive_storage(tenant):
    event_record(
        action="ram:CreateUser",
        account=tenant.account,
        target_arn="acs:ram::1:user/ユーザー\r\nFAKE EVENT \x1b[31m",
        details={"name": "ユーザー\x00", "nested": {"float": 0.1, "big": 2**53, "list": [1, "a"]}},
    )
    assert verify_chain(tenant.account.pk).intact


def test_edited_event_is_detected_at_that_event(tenant):
    events = _record(tenant.account, 5)
    raw("UPDATE audit_auditevent SET outcome = 'denied' WHERE id = %s", [events[2].pk])
    verdict = verify_chain(tenant.account.pk)
    assert not verdict.intact
    assert verdict.broken_seq == events[2].seq and verdict.broken_event_id == events[2].pk
    assert "content does not match" in verdict.reason


def test_edit_with_recomputed_hash_breaks_the_next_link(tenant):
    events = _record(tenant.account, 4)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.action = "test:Innocent"
    new_hash = event_hash(forged.prev_hash, forged.__dict__)
    raw(
        "UPDATE audit_auditevent SET action = %s, hash = %s WHERE id = %s",
        ["test:Innocent", new_hash, forged.pk],
    )
    verdict = verify_chain(tenant.account.pk)
    assert verdict.broken_seq == events[2].seq
    assert "link to the previous event" in verdict.reason


def test_deleted_event_is_detected(tenant):
    events = _record(tenant.account, 5)
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[3].pk])
    verdict = verify_chain(tenant.account.pk)
    assert verdict.broken_seq == events[3].seq
    assert "missing (deleted)" in verdict.reason


def test_deleted_newest_events_are_detected_by_the_head(tenant):
    events = _record(tenant.account, 4)
    raw("DELETE FROM audit_auditevent WHERE id >= %s", [events[2].pk])
    verdict = verify_chain(tenant.account.pk)
    assert verdict.broken_seq == events[2].seq
    assert "newest events were deleted" in verdict.reason


def test_orm_has_no_update_or_delete_path(tenant):
    event = _record(tenant.account, 1)[0]
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(outcome="denied")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(action="test:Forged", chain=tenant.account.pk, seq=999)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger on PostgreSQL")
def test_postgres_refuses_update_and_uncovered_delete(tenant):
    event = _record(tenant.account, 1)[0]
    for sql in (
        "UPDATE audit_auditevent SET outcome = 'denied' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).outcome == "success"


def test_rolled_back_change_takes_its_event_and_the_head_with_it(tenant):
    before = AuditChainHead.objects.get(chain=tenant.account.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(action="test:Doomed", account=tenant.account)
        raise RuntimeError
    after = AuditChainHead.objects.get(chain=tenant.account.pk)
    assert (after.seq, after.head_hash) == (before.seq, before.head_hash)
    assert not AuditEvent.objects.filter(action="test:Doomed").exists()
    _record(tenant.account, 1)
    assert verify_chain(tenant.account.pk).intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    account = make_tenant("race").account
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                event_record(action=f"test:W{n}", account=account, details={"i": i})
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditEvent.objects.filter(chain=account.pk).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    verdict = verify_chain(account.pk)
    assert verdict.intact and verdict.checked == len(seqs)


def test_verifyaudit_reports_intact_and_broken_chains(tenant, other_tenant, capsys):
    events = _record(tenant.account, 3)
    call_command("verifyaudit", "--account", tenant.account.uid)
    assert "the chain is intact" in capsys.readouterr().out
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError) as failure:
        call_command("verifyaudit", "--json")
    assert failure.value.returncode == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = next(line for line in lines if line["account"] == tenant.account.uid)
    assert mine["intact"] is False and mine["broken_seq"] == events[1].seq
    theirs = next(line for line in lines if line["account"] == other_tenant.account.uid)
    assert theirs["intact"] is True
    verified = AuditEvent.objects.filter(action="audit:VerifyIntegrity", chain=tenant.account.pk)
    assert verified.filter(outcome="error", error_code="AuditChainBroken").exists()


def test_unknown_account_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No account 0000"):
        call_command("verifyaudit", "--account", "0000")


def test_genesis_link(tenant):
    first = AuditEvent.objects.filter(chain=tenant.account.pk).order_by("seq").first()
    assert first.seq == 1 and first.prev_hash == GENESIS
