"""The per-account hash chain: h_i = SHA-256(h_{i-1} ‖ canonical(event_i)).

Each account's events form one chain (events of no account, such as a failed login for an
unknown name, form chain 0). Every event stores its sequence number, the hash of its
predecessor and its own hash; the chain head row holds the latest of each. A retention
checkpoint takes the place of the events it pruned, so verification starts from it.

The canonical form is part of the stored data: changing it breaks every existing chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The hashed fields, in order. `chain`, `seq` and `prev_hash` are covered too: seq in the
# payload, prev_hash as the prefix.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "account_id",
    "actor_arn",
    "actor_kind",
    "credential",
    "action",
    "target_arn",
    "outcome",
    "error_code",
    "source_ip",
    "user_agent",
    "request_id",
    "mfa_present",
    "details",
)


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: dict[str, Any]) -> str:
    values = [
        timestamp(row[name]) if name == "occurred_at" else row[name] for name in HASHED_FIELDS
    ]
    return json.dumps(values, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(row)}".encode()).hexdigest()


def normalized_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details as the database gives them back (plain JSON), so the hash survives storage."""
    from django.core.serializers.json import DjangoJSONEncoder

    return _without_nul(json.loads(json.dumps(details, cls=DjangoJSONEncoder)))


def _without_nul(value: Any) -> Any:
    # PostgreSQL's jsonb holds no NUL. Removed from the parsed strings, not from the JSON text,
    # where a literal backslash followed by u0000 would be cut in half.
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


@dataclass
class Link:
    """Where a walk over the chain stands: the last verified sequence number and hash."""

    seq: int = 0
    hash: str = GENESIS


@dataclass
class Verdict:
    chain: int
    checked: int
    start: Link
    end: Link
    broken_seq: int | None = None
    broken_event_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None

    def summary(self) -> str:
        if self.intact:
            origin = f"from checkpoint #{self.start.seq}" if self.start.seq else "from the start"
            return (
                f"{self.checked} events verified {origin}; "
                f"the chain is intact up to #{self.end.seq}."
            )
        return f"Broken at event #{self.broken_seq}: {self.reason}"


def walk(link: Link, row: dict[str, Any]) -> str:
    """Check one stored event against the chain so far; '' when it links, else why not."""
    if row["seq"] != link.seq + 1:
        missing = (
            f"#{link.seq + 1}"
            if row["seq"] == link.seq + 2
            else f"#{link.seq + 1}–#{row['seq'] - 1}"
        )
        return f"event {missing} is missing (deleted) before event #{row['seq']}"
    if row["prev_hash"] != link.hash:
        return "its link to the previous event does not match (an earlier event was changed)"
    if event_hash(row["prev_hash"], row) != row["hash"]:
        return "its content does not match its hash (the event was changed)"
    return ""
