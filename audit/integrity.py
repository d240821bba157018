"""Verify the hash chains: walk each chain from its last checkpoint and report the first
broken link (a changed event, a deleted event, or a truncated tail)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from audit.chain import GENESIS, HASHED_FIELDS, Link, Verdict, walk
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent

BATCH = 5000
COLUMNS = ("id", "prev_hash", "hash", *HASHED_FIELDS)


def chain_start(chain: int) -> Link:
    """The last retention checkpoint of the chain, or its genesis."""
    checkpoint = AuditCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
    return Link(checkpoint.seq, checkpoint.hash) if checkpoint else Link(0, GENESIS)


def _rows(chain: int, after_seq: int) -> Iterator[dict[str, Any]]:
    """The chain's events in sequence order, in keyset batches (constant memory)."""
    while True:
        batch = list(
            AuditEvent.objects.filter(chain=chain, seq__gt=after_seq)
            .order_by("seq")
            .values(*COLUMNS)[:BATCH]
        )
        yield from batch
        if len(batch) < BATCH:
            return
        after_seq = batch[-1]["seq"]


def verify_chain(chain: int, progress: Callable[[int], None] | None = None) -> Verdict:
    start = chain_start(chain)
    link = Link(start.seq, start.hash)
    checked = 0
    for row in _rows(chain, start.seq):
        reason = walk(link, row)
        if reason:
            return Verdict(chain, checked, start, link, link.seq + 1, row["id"], reason)
        link = Link(row["seq"], row["hash"])
        checked += 1
        if progress and checked % BATCH == 0:
            progress(checked)
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is not None and (head.seq, head.head_hash) != (link.seq, link.hash):
        reason = (
            f"events #{link.seq + 1}–#{head.seq} are missing (the newest events were deleted)"
            if head.seq > link.seq
            else "the chain head does not match the newest event"
        )
        return Verdict(chain, checked, start, link, link.seq + 1, None, reason)
    if head is None and checked:
        return Verdict(chain, checked, start, link, link.seq + 1, None, "the chain head is missing")
    return Verdict(chain, checked, start, link)


def chain_length(chain: int) -> int:
    """Events to verify (for progress): head seq minus the checkpoint's."""
    head = AuditChainHead.objects.filter(chain=chain).first()
    return max(0, (head.seq if head else 0) - chain_start(chain).seq)
