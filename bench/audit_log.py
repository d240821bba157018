"""The audit log at scale: with BENCH_EVENTS (default 1,000,000) hash-chained events in one
account, the filtered event list page p50/p99, the streamed export's rows/s and peak memory,
chain verification rows/s, and what the audit write adds to a signed API call.

Works on SQLite and PostgreSQL (DATABASE_URL); the issue's page goal is p50 ≤ 150 ms on
PostgreSQL. Writes bench/results/audit_log[_postgresql].json.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import time
import tracemalloc
from datetime import timedelta

import _django

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))


def generate(account, users: list[str]) -> float:
    """Chain EVENTS events into the account (bulk: COPY on PostgreSQL) and return seconds."""
    from django.db import connection
    from django.utils import timezone

    from audit.chain import event_hash
    from audit.models import AuditChainHead, AuditEvent

    rng = random.Random(7)
    head = AuditChainHead.objects.get(chain=account.pk)
    seq, prev = head.seq, head.head_hash
    start = timezone.now() - timedelta(days=60)
    step = timedelta(days=59) / EVENTS
    actions = [
        "ram:GetUser",
        "ram:ListUsers",
        "ram:CreateUser",
        "ram:AttachPolicyToUser",
        "sts:AssumeRole",
        "console:Login",
        "ram:UpdateAccessKey",
        "ram:ListPolicies",
    ]
    columns = [
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
        "chain",
        "seq",
        "prev_hash",
        "hash",
    ]
    started = time.perf_counter()
    rows = []

    def flush() -> None:
        if connection.vendor == "postgresql":
            raw = connection.connection
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    f"COPY {AuditEvent._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(columns)}) "
                    f"VALUES ({marks})",
                    rows,
                )
        rows.clear()

    from django.db import transaction

    with transaction.atomic():
        for i in range(EVENTS):
            user = rng.choice(users)
            action = rng.choice(actions)
            failed = rng.random() < 0.08
            outcome = ("denied" if action != "console:Login" else "error") if failed else "success"
            seq += 1
            row = {
                "seq": seq,
                "occurred_at": start + step * i,
                "account_id": account.pk,
                "actor_arn": f"acs:ram::{account.uid}:user/{user}",
                "actor_kind": "user",
                "credential": f"LTAI{user:0>20}"[:24],
                "action": action,
                "target_arn": f"acs:ram:*:{account.uid}:user/{rng.choice(users)}",
                "outcome": outcome,
                "error_code": "NoPermission"
                if outcome == "denied"
                else ("LoginFailed" if failed else ""),
                "source_ip": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "user_agent": "AlibabaCloud (Linux; x86_64) Python/3.11 Core/1.0",
                "request_id": f"{i:032X}",
                "mfa_present": False,
                "details": {"read": True} if "Get" in action or "List" in action else {},
            }
            digest = event_hash(prev, row)
            values = [row.get(c) for c in columns]
            values[columns.index("details")] = json.dumps(row["details"])
            values[columns.index("chain")] = account.pk
            values[columns.index("prev_hash")] = prev
            values[columns.index("hash")] = digest
            rows.append(values)
            prev = digest
            if len(rows) >= 20_000:
                flush()
        flush()
        AuditChainHead.objects.filter(chain=account.pk).update(seq=seq, head_hash=prev)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")
    return time.perf_counter() - started


def timed(call, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    _django.setup()
    from django.db import connection
    from django.test import Client

    from accounts.access_keys import access_key_create
    from accounts.models import User
    from accounts.selectors import principal_for_user
    from accounts.services import account_create, user_create
    from audit.integrity import verify_chain
    from audit.models import AuditEvent
    from audit.services import event_record
    from policies.models import Policy
    from policies.services import policy_attach

    vendor = connection.vendor
    account, root, _ = account_create(alias=f"aud{os.getpid()}", email=f"r{os.getpid()}@x.example")
    actor = principal_for_user(root)
    auditor = user_create(
        actor=actor, name="auditor", console_access=True, password="correct horse battery staple 42"
    )
    policy_attach(
        actor=actor,
        policy=Policy.objects.get(account=None, name="AuditReadOnlyAccess"),
        user=auditor,
    )
    users = [f"user{i}" for i in range(200)]
    print(f"generating {EVENTS:,} chained events on {vendor} …", flush=True)
    generate_s = generate(account, users)
    print(f"  {generate_s:.1f} s")

    client = Client()
    client.force_login(User.objects.get(pk=auditor.pk))
    middle = (
        AuditEvent.objects.filter(account=account)
        .order_by("id")
        .values_list("id", flat=True)[EVENTS // 2]
    )
    from django.utils import timezone

    day = timezone.now() - timedelta(days=30)
    day_start, day_end = (
        day.strftime("%Y-%m-%dT%H:%M"),
        (day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    pages = {
        "unfiltered first page": "/console/audit/events/",
        "deep page (keyset, middle)": f"/console/audit/events/?before={middle}",
        "actor + action + failed": (
            "/console/audit/events/?actor=user7&action=console:Login&outcome=failed"
        ),
        "action prefix ram:*": "/console/audit/events/?action=ram:*",
        "source IP": "/console/audit/events/?source_ip=10.1.2.3",
        "time range (1 day, 30 days ago)": (
            f"/console/audit/events/?since={day_start}&until={day_end}"
        ),
        "denied CreateUser": "/console/audit/events/?outcome=denied&action=ram:CreateUser",
        "free text q=AttachPolicy": "/console/audit/events/?q=AttachPolicy",
    }
    page_rows = []
    all_samples: list[float] = []
    for label, url in pages.items():
        assert client.get(url).status_code == 200, url
        samples = timed(lambda url=url: client.get(url), REPEAT)
        all_samples += samples
        page_rows.append(
            {
                "page": label,
                "url": url,
                "p50_ms": statistics.median(samples),
                "p99_ms": _django.percentile(samples, 0.99),
            }
        )
    overview = timed(lambda: client.get("/console/audit/"), max(5, REPEAT // 8))

    # Export: the full trail streamed (rows/s), and Python's peak memory for 100,000 rows.
    started = time.perf_counter()
    response = client.get("/console/audit/events/export?format=csv")
    exported = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    export_s = time.perf_counter() - started
    tracemalloc.start()
    response = client.get("/console/audit/events/export?format=jsonl&action=ram:*")
    for counted, _ in enumerate(response.streaming_content, start=1):
        if counted >= 100_000:
            break
    _, export_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    started = time.perf_counter()
    verdict = verify_chain(account.pk)
    verify_s = time.perf_counter() - started

    # The audit write on a signed API call: event_record alone, and GetUser with and without it.
    owner = User.objects.get(pk=auditor.pk)
    User.objects.filter(pk=owner.pk).update(programmatic_access=True)
    key, secret = access_key_create(actor=actor, user=User.objects.get(pk=owner.pk))
    policy_attach(
        actor=actor, policy=Policy.objects.get(account=None, name="ReadOnlyAccess"), user=owner
    )
    from tests.openapi.conftest import Api

    api = Api(key.access_key_id, secret)
    record = timed(
        lambda: event_record(actor=actor, action="bench:Write", details={"read": True}), REPEAT * 10
    )
    with_audit = timed(lambda: api.v3("GetUser", UserName="auditor"), REPEAT * 5)
    import openapi.views

    original = openapi.views.event_record
    openapi.views.event_record = lambda **kwargs: None  # type: ignore[assignment]
    try:
        without_audit = timed(lambda: api.v3("GetUser", UserName="auditor"), REPEAT * 5)
    finally:
        openapi.views.event_record = original

    result = {
        "machine": platform.platform(),
        "database": vendor,
        "events": EVENTS,
        "generate_s": generate_s,
        "pages": page_rows,
        "list_p50_ms": statistics.median(all_samples),
        "list_p99_ms": _django.percentile(all_samples, 0.99),
        "overview_p50_ms": statistics.median(overview),
        "export_rows": exported,
        "export_s": export_s,
        "export_rows_per_s": exported / export_s,
        "export_peak_python_mb_100k": export_peak / 2**20,
        "verify_rows": verdict.checked,
        "verify_rows_per_s": verdict.checked / verify_s,
        "verify_intact": verdict.intact,
        "event_record_p50_ms": statistics.median(record),
        "signed_getuser_p50_ms": statistics.median(with_audit),
        "signed_getuser_without_audit_p50_ms": statistics.median(without_audit),
    }
    _django.print_table(
        f"Audit event list with {EVENTS:,} events ({vendor}), {REPEAT} requests each",
        ["page", "p50 ms", "p99 ms"],
        [[r["page"], f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}"] for r in page_rows]
        + [
            ["all list pages", f"{result['list_p50_ms']:.1f}", f"{result['list_p99_ms']:.1f}"],
            ["overview (3 charts, 30 days)", f"{result['overview_p50_ms']:.1f}", "-"],
        ],
    )
    _django.print_table(
        "Export, verification and the cost of the audit write",
        ["measure", "value"],
        [
            [
                "CSV export, whole trail",
                f"{exported:,} rows in {export_s:.1f} s = "
                f"{result['export_rows_per_s']:,.0f} rows/s",
            ],
            [
                "export peak Python memory (100k rows)",
                f"{result['export_peak_python_mb_100k']:.1f} MB",
            ],
            [
                "verify chain",
                f"{verdict.checked:,} rows, {result['verify_rows_per_s']:,.0f} rows/s, "
                f"intact={verdict.intact}",
            ],
            ["event_record p50", f"{result['event_record_p50_ms']:.2f} ms"],
            ["signed GetUser p50 with audit", f"{result['signed_getuser_p50_ms']:.2f} ms"],
            [
                "signed GetUser p50 without audit",
                f"{result['signed_getuser_without_audit_p50_ms']:.2f} ms",
            ],
        ],
    )
    name = "audit_log_postgresql.json" if vendor == "postgresql" else "audit_log.json"
    out = _django.RESULTS / name
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
