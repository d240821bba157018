"""Retention: events older than the account's retention are exported to a JSON Lines archive
(a header with the chain links, then the events with their hashes), a checkpoint records the
archive and the last hash, and only then are the events deleted.

Deletion is the one delete path for audit events; on PostgreSQL the table's trigger allows it
only for events a checkpoint covers. A broken chain is never archived or pruned.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from audit.chain import Link, timestamp, walk
from audit.integrity import _rows, chain_start
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import event_record

FORMAT = "iamconsole-audit-archive/1"
DELETE_BATCH = 10_000


@dataclass
class ArchiveResult:
    account: str
    events: int = 0
    pruned: int = 0
    archive: str = ""
    error: str = ""


def archive_dir() -> Path:
    return Path(settings.IAM_AUDIT_ARCHIVE_DIR)


def _line(row: dict[str, Any]) -> str:
    row = {**row, "occurred_at": timestamp(row["occurred_at"])}
    return json.dumps(row, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder) + "\n"


def archive_expired(account: Account, now: datetime | None = None) -> ArchiveResult:
    """Export and prune the account's events older than its retention (one checkpoint)."""
    now = now or timezone.now()
    result = ArchiveResult(account.uid)
    chain = account.pk
    result.pruned += _prune_covered(chain)
    cutoff = now - timedelta(days=account.audit_retention_days)
    start = chain_start(chain)
    last = (
        AuditEvent.objects.filter(chain=chain, seq__gt=start.seq, occurred_at__lt=cutoff)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    if last is None:
        return result
    folder = archive_dir() / account.uid
    folder.mkdir(parents=True, exist_ok=True)
    name = f"audit-{account.uid}-{start.seq + 1:012d}-{last:012d}.jsonl"
    partial = folder / (name + ".partial")
    link = Link(start.seq, start.hash)
    oldest = newest = None
    count = 0
    digest = hashlib.sha256()
    with partial.open("w", encoding="utf-8") as out:
        header = {
            "format": FORMAT,
            "account": account.uid,
            "chain": chain,
            "from_seq": start.seq + 1,
            "to_seq": last,
            "prev_hash": start.hash,
            "exported_at": timestamp(now),
        }
        text = json.dumps(header, sort_keys=True) + "\n"
        out.write(text)
        digest.update(text.encode())
        for row in _rows(chain, start.seq):
            if row["seq"] > last:
                break
            reason = walk(link, row)
            if reason:
                out.close()
                partial.unlink()
                result.error = f"chain broken at #{link.seq + 1}: {reason}; nothing archived"
                event_record(
                    action="audit:ArchiveEvents",
                    account=account,
                    actor_kind="worker",
                    outcome="error",
                    error_code="AuditChainBroken",
                    details={"broken_seq": link.seq + 1},
                )
                return result
            link = Link(row["seq"], row["hash"])
            oldest = oldest or row["occurred_at"]
            newest = row["occurred_at"]
            count += 1
            text = _line(row)
            out.write(text)
            digest.update(text.encode())
        trailer = json.dumps({"head_seq": link.seq, "head_hash": link.hash, "events": count}) + "\n"
        out.write(trailer)
        digest.update(trailer.encode())
        out.flush()
        os.fsync(out.fileno())
    final = folder / name
    partial.replace(final)
    assert oldest is not None and newest is not None  # `last` exists, so at least one row
    with transaction.atomic():
        AuditCheckpoint.objects.create(
            chain=chain,
            seq=link.seq,
            hash=link.hash,
            first_seq=start.seq + 1,
            events=count,
            archive=str(final),
            archive_sha256=digest.hexdigest(),
            oldest_at=oldest,
            newest_at=newest,
        )
        event_record(
            action="audit:ArchiveEvents",
            account=account,
            actor_kind="worker",
            details={
                "archive": final.name,
                "sha256": digest.hexdigest(),
                "from_seq": start.seq + 1,
                "to_seq": link.seq,
                "events": count,
                "head_hash": link.hash,
            },
        )
    result.events = count
    result.archive = str(final)
    result.pruned += _prune_covered(chain)
    return result


def _prune_covered(chain: int) -> int:
    """Delete events a checkpoint covers, in batches (resumes after an interrupted run)."""
    checkpoint = AuditCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
    if checkpoint is None:
        return 0
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = (
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "  # noqa: S608 - model metadata
        "WHERE chain = %s AND seq <= %s ORDER BY seq LIMIT %s)"
    )
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [chain, checkpoint.seq, DELETE_BATCH])
            deleted = cursor.rowcount
        total += deleted
        if deleted < DELETE_BATCH:
            return total


def archive_all(now: datetime | None = None) -> list[ArchiveResult]:
    return [archive_expired(account, now) for account in Account.objects.order_by("pk")]


def verify_archive(path: Path) -> tuple[bool, str]:
    """Check an archive on its own: every link from the header's prev_hash to the trailer."""
    with path.open(encoding="utf-8") as lines:
        header = json.loads(next(lines))
        if header.get("format") != FORMAT:
            return False, "not an audit archive"
        link = Link(header["from_seq"] - 1, header["prev_hash"])
        trailer: dict[str, Any] = {}
        for text in lines:
            row = json.loads(text)
            if "head_hash" in row:
                trailer = row
                break
            row["occurred_at"] = datetime.fromisoformat(row["occurred_at"].replace("Z", "+00:00"))
            reason = walk(link, row)
            if reason:
                return False, f"broken at #{link.seq + 1}: {reason}"
            link = Link(row["seq"], row["hash"])
    if not trailer:
        return False, "the archive is truncated (no trailer)"
    if (trailer["head_seq"], trailer["head_hash"]) != (link.seq, link.hash):
        return False, "the trailer does not match the last event"
    return True, f"{trailer['events']} events #{header['from_seq']}–#{link.seq}, intact"
