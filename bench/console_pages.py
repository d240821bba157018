"""The users list page for accounts with 100, 1,000 and 10,000 users: queries per request
(must not grow with the number of users) and p50/p99 render time, through the full
middleware stack as a signed-in administrator. Writes bench/results/console_pages.json.
"""

from __future__ import annotations

import json
import platform
import time

import _django

SIZES = (100, 1_000, 10_000)
REQUESTS = 40
PAGES = ("/console/users/", "/console/users/?page=3", "/console/users/?q=user-00")


def main() -> None:
    _django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.ids import numeric_id
    from accounts.models import User
    from accounts.services import account_create
    from policies.authorization import clear_cache
    from policies.models import Policy, PolicyAttachment

    setup_test_environment()
    admin_policy = Policy.objects.get(account__isnull=True, name="AdministratorAccess")
    rows = []
    for n in SIZES:
        account, _, _ = account_create(alias=f"pages{n}", email=f"root@pages{n}.example")
        User.objects.bulk_create(
            [
                User(
                    account=account,
                    user_id=numeric_id(16),
                    name=f"user-{i:05d}",
                    display_name=f"User {i}",
                    password="!",
                    programmatic_access=True,
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        admin = User.objects.create(
            account=account,
            user_id=numeric_id(16),
            name="zz-admin",
            password="!",
            console_access=True,
        )
        PolicyAttachment.objects.create(account=account, policy=admin_policy, user=admin)
        client = Client()
        client.force_login(admin)
        for url in PAGES:
            clear_cache()
            client.get(url)  # warm: compile the principal's policies once per process
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, response.status_code
            query_count = len(queries)
            samples = []
            for _ in range(REQUESTS):
                start = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - start) * 1000)
            rows.append(
                {
                    "users": n,
                    "url": url,
                    "queries": query_count,
                    "p50_ms": _django.percentile(samples, 0.5),
                    "p99_ms": _django.percentile(samples, 0.99),
                }
            )
    _django.print_table(
        "Users list page",
        ["users", "url", "queries", "p50 ms", "p99 ms"],
        [
            [f"{r['users']:,}", r["url"], r["queries"], f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}"]
            for r in rows
        ],
    )
    _django.RESULTS.mkdir(parents=True, exist_ok=True)
    out = _django.RESULTS / "console_pages.json"
    out.write_text(
        json.dumps(
            {"machine": platform.platform(), "database": connection.vendor, "rows": rows}, indent=2
        )
    )
    print(f"\nwritten to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
