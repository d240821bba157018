"""Raw-SQL tampering with the audit table, as an attacker with database access would do it.

On PostgreSQL the append-only trigger refuses this; the helper switches the session to
replica mode (which skips ordinary triggers; it needs a superuser, as the test database user is).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def trigger_off() -> Iterator[None]:
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            if postgres:
                cursor.execute("SET session_replication_role = DEFAULT")


def raw(sql: str, params: list) -> None:
    with trigger_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)
