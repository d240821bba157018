"""STS under gunicorn (2 sync workers): AssumeRole requests/s with p50/p99, and the cost of an
STS-signed GetUser relative to an AccessKey-signed one. Writes bench/results/sts_throughput.json.
"""

from __future__ import annotations

import json
import os
import platform

import _django
import api_throughput as api

DURATION = api.DURATION
CLIENTS = api.CLIENTS


def prepare() -> dict[str, str]:
    from accounts.models import User
    from accounts.selectors import principal_for_user
    from policies.models import Policy
    from policies.services import policy_attach
    from roles.services import role_create
    from sts.services import assume_role

    creds = api.prepare()  # a RAM user "reader" with AliyunRAMReadOnlyAccess and a key
    user = User.objects.select_related("account").get(
        name="reader", access_keys__access_key_id=creds["key_id"]
    )
    root = User.objects.select_related("account").get(account=user.account, kind="root")
    actor = principal_for_user(root)
    uid = user.account.uid
    role = role_create(
        actor=actor,
        name="bench-role",
        trust_policy=json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"RAM": [f"acs:ram::{uid}:root"]},
                    }
                ],
            }
        ),
    )
    system = Policy.objects.filter(account__isnull=True)
    policy_attach(actor=actor, role=role, policy=system.get(name="AliyunRAMReadOnlyAccess"))
    policy_attach(actor=actor, user=user, policy=system.get(name="AliyunSTSAssumeRoleAccess"))
    session = assume_role(
        actor=principal_for_user(User.objects.select_related("account").get(pk=user.pk)),
        role_arn=role.arn,
        session_name="bench",
        duration=3600,
    )
    return {
        **creds,
        "role_arn": role.arn,
        "sts_key": session.session.access_key_id,
        "sts_secret": session.secret,
        "sts_token": session.token,
    }


def main() -> None:
    cache_url = api.redis_url()
    if cache_url:
        os.environ["REDIS_URL"] = cache_url
    _django.setup()
    creds = prepare()
    capacity = int(2000 * DURATION / CLIENTS) + 100
    with api.gunicorn() as port:
        host = f"127.0.0.1:{port}"
        api.load(port, None)  # warm up
        results = {}
        plans = {
            "AssumeRole (V3)": dict(
                key_id=creds["key_id"],
                secret=creds["secret"],
                action="AssumeRole",
                version="2015-04-01",
                query=[("RoleArn", creds["role_arn"]), ("RoleSessionName", "bench")],
            ),
            "GetUser, AccessKey-signed": dict(key_id=creds["key_id"], secret=creds["secret"]),
            "GetUser, STS-signed": dict(
                key_id=creds["sts_key"], secret=creds["sts_secret"], token=creds["sts_token"]
            ),
        }
        for name, plan in plans.items():
            per_client = [
                api.signed_requests(host=host, count=capacity, **plan) for _ in range(CLIENTS)
            ]
            results[name] = api.load(port, per_client)
    ratio = (
        results["GetUser, STS-signed"]["p50_ms"] / results["GetUser, AccessKey-signed"]["p50_ms"]
    )
    _django.print_table(
        f"STS throughput: gunicorn 2 sync workers, {CLIENTS} clients, {DURATION:.0f}s",
        ["request", "requests", "errors", "req/s", "p50 ms", "p99 ms"],
        [
            [
                name,
                r["requests"],
                r["errors"],
                f"{r['rps']:,.0f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
            ]
            for name, r in results.items()
        ],
    )
    print(f"\nSTS-signed / AccessKey-signed p50: {ratio:.2f}x")
    out = _django.RESULTS / "sts_throughput.json"
    out.write_text(
        json.dumps(
            {"machine": platform.platform(), "results": results, "sts_vs_accesskey_p50": ratio},
            indent=2,
        )
    )
    print(f"written to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
