"""Policy evaluation: decisions/s and p50/p99 per decision for 10, 100 and 1,000 statements.

Each principal's statements have two wildcard actions in their own service, a wildcard
resource, an IP and a date condition, plus one leading Deny. Measured three ways:
the naive fnmatch loop (for comparison), the compiled engine, and authorize() end to end
(policies attached in the database, compiled set cached per authz_version).
Writes bench/results/policy_eval.json.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import platform
import time
from datetime import UTC, datetime

import _django

SIZES = (10, 100, 1000)
CALLS = 20_000
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def statements(n: int) -> list[dict]:
    result = [{"Effect": "Deny", "Action": "ram:Delete*", "Resource": "*"}]
    for i in range(n - 1):
        result.append(
            {
                "Effect": "Allow",
                "Action": [f"svc{i}:Describe*", f"svc{i}:Get*"],
                "Resource": f"acs:svc{i}:*:*:res/{i}/*",
                "Condition": {
                    "IpAddress": {"acs:SourceIp": "10.0.0.0/8"},
                    "DateLessThan": {"acs:CurrentTime": "2099-01-01T00:00:00Z"},
                },
            }
        )
    return result


def requests(n: int, uid: str = "1") -> list[tuple[str, str]]:
    last = n - 2
    return [
        (f"svc{last}:GetThing", f"acs:svc{last}:*:{uid}:res/{last}/x"),  # hit: last one
        ("svc-none:GetThing", f"acs:svc-none:*:{uid}:res/0/x"),  # miss: full scan
        ("ram:DeleteUser", f"acs:ram:*:{uid}:user/x"),
    ]  # explicit deny


def time_calls(fn, calls: int) -> tuple[float, float, float]:
    samples = []
    perf = time.perf_counter_ns
    for _ in range(calls):
        start = perf()
        fn()
        samples.append((perf() - start) / 1000)
    total = sum(samples) / 1e6
    return calls / total, _django.percentile(samples, 0.5), _django.percentile(samples, 0.99)


def naive_decide(raw: list[dict], action: str, resource: str) -> str:
    allowed = False
    for st in raw:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
            continue
        if not fnmatch.fnmatchcase(resource, st["Resource"]):
            continue
        if st["Effect"] == "Deny":
            return "Deny"
        allowed = True
    return "Allow" if allowed else "Implicit"


def engine_rows() -> list[dict]:
    from policies.engine import CompiledPolicySet, SourcedStatement, parse_policy

    rows = []
    context = {"acs:sourceip": ipaddress.ip_address("10.1.2.3"), "acs:currenttime": NOW}
    for n in SIZES:
        raw = statements(n)
        parsed = parse_policy(json.dumps({"Version": "1", "Statement": raw}), max_chars=10**7)
        compiled = CompiledPolicySet(SourcedStatement(s, None) for s in parsed.statements)
        for label, (action, resource) in zip(("hit", "miss", "deny"), requests(n), strict=True):
            rate, p50, p99 = time_calls(lambda: compiled.decide(action, resource, context), CALLS)
            rows.append(
                {
                    "evaluator": "compiled engine",
                    "statements": n,
                    "request": label,
                    "decisions_per_s": rate,
                    "p50_us": p50,
                    "p99_us": p99,
                }
            )
            naive_calls = max(200, CALLS // n)
            rate, p50, p99 = time_calls(lambda: naive_decide(raw, action, resource), naive_calls)
            rows.append(
                {
                    "evaluator": "naive fnmatch loop",
                    "statements": n,
                    "request": label,
                    "decisions_per_s": rate,
                    "p50_us": p50,
                    "p99_us": p99,
                }
            )
    return rows


def authorize_rows() -> list[dict]:
    from accounts.services import account_create, user_create
    from policies.authorization import authorize
    from policies.models import Policy, PolicyAttachment, PolicyVersion
    from policies.principal import Principal, RequestMeta

    rows = []
    for n in SIZES:
        account, root, _ = account_create(alias=f"bench{n}", email=f"root@bench{n}.example")
        root_p = Principal(
            account.pk,
            account.uid,
            "root",
            account.root_arn,
            "root",
            root.pk,
            account.authz_version,
        )
        user = user_create(actor=root_p, name="subject", programmatic_access=True)
        raw = statements(n)
        for chunk_start in range(0, n, 25):  # policies of ≤ 25 statements, as real ones are
            policy = Policy.objects.create(
                account=account, name=f"P{chunk_start}", policy_type="Custom"
            )
            doc = {"Version": "1", "Statement": raw[chunk_start : chunk_start + 25]}
            PolicyVersion.objects.create(
                policy=policy, version_id="v1", is_default=True, document=json.dumps(doc)
            )
            PolicyAttachment.objects.create(account=account, policy=policy, user=user)
        account.refresh_from_db()
        principal = Principal(
            account.pk,
            account.uid,
            "user",
            user.arn,
            user.name,
            user.pk,
            account.authz_version,
            meta=RequestMeta(source_ip="10.1.2.3"),
        )
        for label, (action, resource) in zip(
            ("hit", "miss", "deny"), requests(n, account.uid), strict=True
        ):
            authorize(principal, action, resource)  # compile and cache once
            rate, p50, p99 = time_calls(lambda: authorize(principal, action, resource), CALLS)
            rows.append(
                {
                    "evaluator": "authorize() incl. context",
                    "statements": n,
                    "request": label,
                    "decisions_per_s": rate,
                    "p50_us": p50,
                    "p99_us": p99,
                }
            )
    return rows


def main() -> None:
    _django.setup()
    rows = engine_rows() + authorize_rows()
    _django.print_table(
        "Policy evaluation (µs per decision)",
        ["evaluator", "statements", "request", "decisions/s", "p50 µs", "p99 µs"],
        [
            [
                r["evaluator"],
                r["statements"],
                r["request"],
                f"{r['decisions_per_s']:,.0f}",
                f"{r['p50_us']:.2f}",
                f"{r['p99_us']:.2f}",
            ]
            for r in rows
        ],
    )
    _django.RESULTS.mkdir(parents=True, exist_ok=True)
    out = _django.RESULTS / "policy_eval.json"
    out.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "rows": rows},
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
