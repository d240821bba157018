"""Use an item once: one upsert per call, refused when a live record of it exists.

`use_once` inserts the item's record, or takes over an expired record of the same item that the
worker has not purged yet, in one statement (`INSERT … ON CONFLICT DO UPDATE … WHERE expired`):
the database's unique key decides between concurrent callers on any number of nodes. A store
that can't be reached refuses (`ServiceUnavailable`, 503); nothing is accepted unverified.

Callers use it outside a transaction (autocommit), so the record is durable before the item buys
anything; inside a transaction the record commits or rolls back with what it protected.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.utils import timezone

from accounts.errors import IamError
from singleuse.models import UsedItem

logger = logging.getLogger(__name__)

NONCE = "nonce"
OIDC_TOKEN = "oidc-token"
SAML_ASSERTION = "saml-assertion"


class StoreUnavailable(IamError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "ServiceUnavailable", "The request can't be verified right now; try again later."
        )


def _digest(kind: str, scope: str, item: str) -> str:
    return hashlib.sha256(f"{kind}\n{scope}\n{item}".encode()).hexdigest()


def _sql() -> str:
    table = connection.ops.quote_name(UsedItem._meta.db_table)
    return (
        f"INSERT INTO {table} (digest, kind, expires_at) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (digest) DO UPDATE SET kind = excluded.kind, "
        f"expires_at = excluded.expires_at WHERE {table}.expires_at < %s"
    )


def use_once(kind: str, scope: str, item: str, *, valid_until: datetime) -> bool:
    """True the first time (kind, scope, item) is presented before `valid_until`; False while a
    live record of it exists. Raises StoreUnavailable when the store can't answer."""
    now = timezone.now()
    expires = max(valid_until, now + timedelta(seconds=1))
    params: list[str | datetime] = [_digest(kind, scope, item), kind, expires, now]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_sql(), params)
            return cursor.rowcount == 1
    except DatabaseError as exc:
        logger.error("single-use store unavailable: %s", type(exc).__name__)
        raise StoreUnavailable() from exc


def purge_expired(batch: int = 10_000) -> int:
    """Delete records whose item can no longer be presented, in batches (the worker's job)."""
    total = 0
    now = timezone.now()
    while True:
        digests = list(
            UsedItem.objects.filter(expires_at__lt=now).values_list("digest", flat=True)[:batch]
        )
        if not digests:
            return total
        deleted, _ = UsedItem.objects.filter(digest__in=digests, expires_at__lt=now).delete()
        total += deleted
