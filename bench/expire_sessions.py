"""Expiry task throughput on PostgreSQL: 100,000 and 1,000,000 expired STS sessions.

Prints the time to mark them (and then to purge them), rows per second and the process's
peak memory growth. Needs DATABASE_URL (PostgreSQL); writes bench/results/expire_sessions.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time

import _django

SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (this benchmark is about PostgreSQL)")
    _django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from accounts.services import account_create
    from roles.models import Role
    from sts.models import StsSession
    from sts.services import sessions_expire

    account, _, _ = account_create(alias=f"exp{os.getpid()}", email=f"r{os.getpid()}@x.example")
    role = Role.objects.create(
        account=account, role_id=str(10**17 + os.getpid()), name="bench", trust_policy="{}"
    )
    rows = []
    for size in SIZES:
        StsSession.objects.all().delete()
        past = timezone.now() - timedelta(days=40)
        table = StsSession._meta.db_table
        with connection.cursor() as cursor:  # server-side generation: fast to set up
            cursor.execute(
                f'INSERT INTO "{table}" (access_key_id, secret_sealed, token_digest, '
                "account_id, role_id, session_name, session_policy, source_arn, "
                "source_account_uid, chained, created_at, expires_at) "
                "SELECT 'STS.b' || g, 'x', 'x', %s, %s, 's', '', 'a', %s, false, %s, %s "
                "FROM generate_series(1, %s) g",
                [account.pk, role.pk, account.uid, past, past, size],
            )
            cursor.execute(f'ANALYZE "{table}"')
        before = rss_mb()
        started = time.perf_counter()
        marked = sessions_expire(retention_days=365)["marked"]
        mark_seconds = time.perf_counter() - started
        started = time.perf_counter()
        purged = sessions_expire(retention_days=30)["purged"]
        purge_seconds = time.perf_counter() - started
        rows.append(
            {
                "sessions": size,
                "marked": marked,
                "mark_s": mark_seconds,
                "mark_rows_per_s": marked / mark_seconds,
                "purged": purged,
                "purge_s": purge_seconds,
                "purge_rows_per_s": purged / purge_seconds,
                "peak_rss_growth_mb": rss_mb() - before,
            }
        )
    _django.print_table(
        "STS session expiry on PostgreSQL (batches of 10,000)",
        ["sessions", "mark s", "mark rows/s", "purge s", "purge rows/s", "peak RSS growth MB"],
        [
            [
                f"{r['sessions']:,}",
                f"{r['mark_s']:.1f}",
                f"{r['mark_rows_per_s']:,.0f}",
                f"{r['purge_s']:.1f}",
                f"{r['purge_rows_per_s']:,.0f}",
                f"{r['peak_rss_growth_mb']:.1f}",
            ]
            for r in rows
        ],
    )
    out = _django.RESULTS / "expire_sessions.json"
    out.write_text(json.dumps({"machine": platform.platform(), "rows": rows}, indent=2))
    print(f"written to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
