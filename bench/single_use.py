"""The single-use store's cost per signed call: one `use_once` (a durable upsert on a unique
key) beside what it replaced (`cache.add` on the configured cache), p50/p99 and calls/s.

    [DATABASE_URL=postgres://…] [REDIS_URL=redis://…] .venv/bin/python bench/single_use.py

Also: replay refused after 10,000 records (a sanity check, not a timing). Writes
bench/results/single_use-<database>.json. BENCH_CALLS sets the number of calls (default 5,000).
"""

from __future__ import annotations

import json
import os
import platform
import time
import uuid
from datetime import timedelta

import _django

CALLS = int(os.environ.get("BENCH_CALLS", "5000"))


def timed(fn, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def main() -> None:
    _django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from singleuse.services import NONCE, use_once

    window = timezone.now() + timedelta(minutes=31)
    first = str(uuid.uuid4())
    assert use_once(NONCE, "LTAIbench", first, valid_until=window)
    durable = timed(
        lambda: use_once(NONCE, "LTAIbench", uuid.uuid4().hex, valid_until=window), CALLS
    )
    assert not use_once(NONCE, "LTAIbench", first, valid_until=window), "replay accepted"
    cached = timed(lambda: cache.add(f"nonce:{uuid.uuid4().hex}", 1, timeout=1860), CALLS)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    rows = [
        ("use_once (database, durable)", durable),
        (f"cache.add ({backend}, replaced)", cached),
    ]
    print(f"{'store':<40} {'p50 µs':>8} {'p99 µs':>8} {'calls/s':>9}")
    results = {}
    for name, samples in rows:
        p50, p99 = _django.percentile(samples, 0.5), _django.percentile(samples, 0.99)
        rate = len(samples) / (sum(samples) / 1e6)
        print(f"{name:<40} {p50:>8.0f} {p99:>8.0f} {rate:>9.0f}")
        results[name] = {"p50_us": round(p50), "p99_us": round(p99), "per_second": round(rate)}
    out = _django.RESULTS / f"single_use-{connection.vendor}.json"
    out.write_text(
        json.dumps({"calls": CALLS, "machine": platform.machine(), "results": results}, indent=2)
        + "\n"
    )
    print(f"written {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
