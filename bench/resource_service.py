"""What asking iamconsole costs a resource service: GetObject on the example object store through
the client package's middleware, beside the same handler without it, in one run.

    [BENCH_SECONDS=10] [BENCH_CLIENTS=4] [DATABASE_URL=postgres://…] \
        .venv/bin/python bench/resource_service.py [--smoke]

iamconsole runs under gunicorn (2 sync workers, as bench/api_throughput.py); the object store
runs as shipped (`python -m examples.objectstore --workers 2`: gunicorn, 2 gthread workers) and
its bare handler under the same gunicorn settings, both on one data directory. Load-generator
processes on 127.0.0.1 keep their connections alive and send V3-signed GetObject requests,
signed before timing, each with its own nonce. Prints req/s, p50/p99 and the ratio, and the
verifications per second iamconsole recorded (its data events); writes
bench/results/resource_service[-postgresql].json. --smoke (or BENCH_SECONDS=2) for CI.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import _django

SMOKE = "--smoke" in sys.argv
DURATION = 1.5 if SMOKE else float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
WORKERS = 2
THREADS = 4  # per object-store worker (gthread), for both variants
VERSION = "2026-12-01"
BUCKET, KEY, CONTENT = "bench", "reports/2026/q1.txt", "x" * 1024


def bare_application() -> Any:
    """The object store's handler with no middleware: the baseline, served only here."""
    from examples.objectstore.app import ObjectStoreApp
    from examples.objectstore.store import Store

    return ObjectStoreApp(Store(Path(os.environ["BENCH_OBJECTSTORE_DATA"])))


def prepare() -> dict[str, str]:
    """An account with a RAM user allowed oss:* on the bench bucket, and a service key."""
    from accounts.access_keys import access_key_create
    from accounts.models import User
    from accounts.selectors import principal_for_user
    from accounts.services import account_create, user_create
    from policies.services import policy_attach, policy_create
    from sts.models import TrustedService
    from sts.service_principals import service_create

    account, root, _ = account_create(
        alias=f"bench{secrets.token_hex(3)}", email=f"root-{secrets.token_hex(3)}@bench.example"
    )
    actor = principal_for_user(User.objects.select_related("account").get(pk=root.pk))
    user = user_create(actor=actor, name="reader", programmatic_access=True)
    arn = f"acs:oss:*:{account.uid}:{BUCKET}"
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": [arn, f"{arn}/*"]}],
    }
    policy = policy_create(actor=actor, name="oss-bench", document=json.dumps(document))
    policy_attach(actor=actor, policy=policy, user=user)
    key, secret = access_key_create(actor=actor, user=User.objects.get(pk=user.pk))
    # One service per action prefix: a previous run's bench service gives way.
    TrustedService.objects.filter(name__startswith="oss.bench").delete()
    service, service_secret = service_create(name=f"oss.bench-{secrets.token_hex(4)}")
    return {
        "uid": account.uid,
        "key_id": key.access_key_id,
        "secret": secret,
        "service_key_id": service.access_key_id,
        "service_secret": service_secret,
    }


def signed_get_objects(creds: dict[str, str], host: str, count: int) -> list[tuple[str, dict]]:
    from api_throughput import signed_requests

    query = [("Bucket", BUCKET), ("Key", KEY)]
    return signed_requests(
        creds["key_id"], creds["secret"], host, count, "GetObject", VERSION, query
    )


def put_object(creds: dict[str, str], port: int) -> None:
    """Create the bucket and its object through the guarded store, as the reader."""
    from iamconsole_resource.signing import sign

    for action, params in (
        ("CreateBucket", {"Bucket": BUCKET}),
        ("PutObject", {"Bucket": BUCKET, "Key": KEY, "Content": CONTENT}),
    ):
        body = urlencode(params).encode()
        headers = sign(
            method="POST",
            host=f"127.0.0.1:{port}",
            path="/",
            action=action,
            version=VERSION,
            body=body,
            content_type="application/x-www-form-urlencoded",
            access_key_id=creds["key_id"],
            access_key_secret=creds["secret"],
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"{action} failed: {response.status} {answer!r}")


def _wait(port: int, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"server on {port} exited with {process.returncode}")
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str]) -> Iterator[int]:
    process = subprocess.Popen(command, cwd=_django.ROOT, env=env)
    try:
        _wait(port, process)
        time.sleep(0.5)  # let every worker boot
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def guarded_store(creds: dict[str, str], iam_port: int, data: Path) -> Any:
    from api_throughput import free_port

    port = free_port()
    env = dict(
        os.environ,
        IAM_ENDPOINT=f"http://127.0.0.1:{iam_port}",
        IAM_SERVICE_ACCESS_KEY_ID=creds["service_key_id"],
        IAM_SERVICE_ACCESS_KEY_SECRET=creds["service_secret"],
    )
    command = [sys.executable, "-m", "examples.objectstore", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--data", str(data), "--workers", str(WORKERS)]
    command += ["--threads", str(THREADS)]
    return serving(command, port, env)


def bare_store(data: Path) -> Any:
    from api_throughput import free_port

    port = free_port()
    env = dict(
        os.environ,
        BENCH_OBJECTSTORE_DATA=str(data),
        PYTHONPATH=os.pathsep.join([str(_django.ROOT), str(_django.ROOT / "bench")]),
    )
    command = [sys.executable, "-m", "gunicorn", "resource_service:bare_application()"]
    command += ["-b", f"127.0.0.1:{port}", "-w", str(WORKERS), "-k", "gthread"]
    command += ["--threads", str(THREADS), "--keep-alive", "30", "--log-level", "warning"]
    return serving(command, port, env)


def client(port: int, requests: list, cycle: bool, seconds: float, queue: Any) -> None:
    """One keep-alive connection; pre-signed requests, each used once unless `cycle`."""
    latencies, errors, index = [], 0, 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if index >= len(requests):
            if not cycle:
                break
            index = 0
        path, headers = requests[index]
        index += 1
        start = time.perf_counter()
        connection.request("POST", path, body=b"", headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            errors += 1
    connection.close()
    queue.put((latencies, errors, index >= len(requests) and not cycle))


def load(port: int, per_client: list[list], seconds: float, cycle: bool) -> dict[str, Any]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=client, args=(port, batch, cycle, seconds, queue))
        for batch in per_client
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    latencies = [x for lat, _, _ in results for x in lat]
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e, _ in results),
        "ran_out_of_signed_requests": any(out for _, _, out in results),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": _django.percentile(latencies, 0.5),
        "p99_ms": _django.percentile(latencies, 0.99),
    }


def verifications(since: int) -> int:
    """Allowed GetObject decisions iamconsole recorded as data events since event `since`."""
    from audit.models import AuditEvent

    return AuditEvent.objects.filter(
        pk__gt=since, action="oss:GetObject", outcome="success"
    ).count()


def last_event_id() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def warm_iamconsole(port: int) -> None:
    """Wait until both workers answer (booting Django can outlast the store's 3 s timeout)."""
    for _ in range(2 * WORKERS):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        connection.close()


def in_process_question_ms(creds: dict[str, str], count: int = 40) -> float:
    """ms for iamconsole to answer one question in-process (Django's test client, no HTTP):
    both signatures, both nonces, authorize(), the data event."""
    from django.test import Client
    from iamconsole_resource import Authorizer, IncomingRequest
    from iamconsole_resource.client import PATH
    from iamconsole_resource.signing import sign

    client = Client()
    authorizer = Authorizer("http://testserver", creds["service_key_id"], creds["service_secret"])
    resource = [f"acs:oss:*:{creds['uid']}:{BUCKET}/{KEY}"]
    elapsed = 0.0
    for index, (path, headers) in enumerate(signed_get_objects(creds, "s", count + 5)):
        received = IncomingRequest.build(
            method="POST",
            path="/",
            query_string=path[2:],
            headers=headers,
            body=b"",
            source_ip="127.0.0.1",
            secure=False,
        )
        body = json.dumps(authorizer.question(received, "oss:GetObject", resource)).encode()
        signed = sign(
            method="POST",
            host="testserver",
            path=PATH,
            action="Authorize",
            version=VERSION,
            body=body,
            content_type="application/json",
            access_key_id=creds["service_key_id"],
            access_key_secret=creds["service_secret"],
        )
        meta = {
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in signed.items()
            if k not in ("host", "content-type")
        }
        started = time.perf_counter()
        answer = client.post(PATH, body, "application/json", HTTP_HOST="testserver", **meta)
        if index >= 5:  # the first few warm caches
            elapsed += time.perf_counter() - started
        if answer.status_code != 200 or not answer.json()["Allowed"]:
            raise SystemExit(f"in-process question failed: {answer.content!r}")
    return elapsed / count * 1000


def quiet_data_events(uid: str) -> None:
    """Switch off the owner's allowed data events (denials are still recorded)."""
    from accounts.models import Account
    from resource_services.models import DataEventSetting

    DataEventSetting.objects.update_or_create(
        account=Account.objects.get(uid=uid), defaults={"record_allowed": False}
    )


def guarded_run(creds: dict[str, str], port: int, capacity: int) -> dict[str, Any]:
    host = f"127.0.0.1:{port}"
    batches = [signed_get_objects(creds, host, capacity) for _ in range(CLIENTS)]
    since = last_event_id()
    result = load(port, batches, DURATION, cycle=False)
    result["data_events"] = verifications(since)
    # Every GetObject that got through was one verification by iamconsole.
    result["verifications_per_s"] = (result["requests"] - result["errors"]) / result["seconds"]
    return result


def measure(creds: dict[str, str], iam_port: int) -> dict[str, Any]:
    warm_iamconsole(iam_port)
    data = Path(tempfile.mkdtemp(prefix="iam-bench-objectstore-"))
    with guarded_store(creds, iam_port, data) as guarded_port:
        put_object(creds, guarded_port)
        host = f"127.0.0.1:{guarded_port}"
        warmup = [signed_get_objects(creds, host, 300) for _ in range(CLIENTS)]
        warm = load(guarded_port, warmup, 2.0, cycle=False)
        capacity = int(warm["rps"] * DURATION * 3 / CLIENTS) + 200
        guarded = guarded_run(creds, guarded_port, capacity)
        quiet_data_events(creds["uid"])
        quiet = guarded_run(creds, guarded_port, capacity)
        template = [signed_get_objects(creds, host, 50) for _ in range(CLIENTS)]
    with bare_store(data) as bare_port:
        load(bare_port, template, min(2.0, DURATION), cycle=True)  # warm
        bare = load(bare_port, template, DURATION, cycle=True)
    return {
        "bare": bare,
        "guarded": guarded,
        "guarded_without_data_events": quiet,
        "ratio": guarded["rps"] / bare["rps"],
        "ratio_without_data_events": quiet["rps"] / bare["rps"],
    }


def report(result: dict[str, Any], database: str, cache: str) -> None:
    rows = [
        ["GetObject, bare handler", result["bare"]],
        ["GetObject, through the middleware", result["guarded"]],
        ["  same, allowed data events off", result["guarded_without_data_events"]],
    ]
    _django.print_table(
        f"Resource service: object store on gunicorn {WORKERS}x{THREADS} gthread, iamconsole on "
        f"gunicorn {WORKERS} sync, {CLIENTS} keep-alive clients, {DURATION:.0f}s, "
        f"database={database}, cache={cache}",
        ["target", "requests", "errors", "req/s", "p50 ms", "p99 ms"],
        [
            [
                name,
                r["requests"],
                r["errors"],
                f"{r['rps']:,.0f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
            ]
            for name, r in rows
        ],
    )
    guarded, quiet = result["guarded"], result["guarded_without_data_events"]
    print(
        f"\nratio middleware/bare: {result['ratio']:.2f} "
        f"({result['ratio_without_data_events']:.2f} with allowed data events off)"
    )
    print(
        f"verifications/s: {guarded['verifications_per_s']:,.0f} "
        f"({guarded['data_events']} data events recorded by iamconsole), "
        f"{quiet['verifications_per_s']:,.0f} with data events off"
    )
    print(
        f"in-process: iamconsole answers one question in {result['in_process_question_ms']:.1f} ms "
        "(no HTTP; data events off)"
    )
    if guarded["ran_out_of_signed_requests"] or quiet["ran_out_of_signed_requests"]:
        print("warning: a client ran out of pre-signed requests; req/s is a lower bound")


def main() -> None:
    from api_throughput import gunicorn, redis_url

    cache_url = redis_url()
    if cache_url:
        os.environ["REDIS_URL"] = cache_url
    _django.setup()
    from django.db import connection

    creds = prepare()
    with gunicorn() as iam_port:
        result = measure(creds, iam_port)
    result["in_process_question_ms"] = in_process_question_ms(creds)
    database, cache = connection.vendor, "redis" if cache_url else "database"
    report(result, database, cache)
    _django.RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if database == "sqlite" else f"-{database}"
    out = _django.RESULTS / f"resource_service{suffix}{'-smoke' if SMOKE else ''}.json"
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
                "object_store": f"gunicorn {WORKERS} gthread workers x {THREADS} threads",
                "iamconsole": f"gunicorn {WORKERS} sync workers",
                "clients": CLIENTS,
                "seconds": DURATION,
                "database": database,
                "cache": cache,
                **result,
            },
            indent=2,
        )
    )
    print(f"written to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
