"""Signed API throughput under gunicorn, beside a bare Django view on the same server.

Two sync gunicorn workers serve the app (DEBUG off, Redis cache for nonces when reachable);
load-generator processes on 127.0.0.1 send pre-signed V3 `GetUser` requests (each with its own
nonce) and plain GETs of /healthz. Prints req/s, p50, p99 and the ratio; also the in-process
cost of verifying one request. Writes bench/results/api_throughput.json.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import _django

DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return url
    except OSError:
        return ""


def prepare() -> dict[str, str]:
    from accounts.access_keys import access_key_create
    from accounts.models import User
    from accounts.selectors import principal_for_user
    from accounts.services import account_create, user_create
    from policies.models import Policy
    from policies.services import policy_attach

    _, root, _ = account_create(
        alias=f"bench{secrets.token_hex(3)}", email=f"root-{secrets.token_hex(3)}@bench.example"
    )
    actor = principal_for_user(User.objects.select_related("account").get(pk=root.pk))
    user = user_create(actor=actor, name="reader", programmatic_access=True)
    policy_attach(
        actor=actor,
        user=user,
        policy=Policy.objects.get(account__isnull=True, name="AliyunRAMReadOnlyAccess"),
    )
    key, secret = access_key_create(actor=actor, user=User.objects.get(pk=user.pk))
    return {"key_id": key.access_key_id, "secret": secret}


def signed_requests(
    key_id: str,
    secret: str,
    host: str,
    count: int,
    action: str = "GetUser",
    version: str = "2015-05-01",
    query: list[tuple[str, str]] | None = None,
    token: str = "",
) -> list[tuple[str, dict]]:
    from openapi.signature import (
        EMPTY_SHA256,
        v3_canonical_request,
        v3_signature,
        v3_string_to_sign,
    )

    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    query = query if query is not None else [("UserName", "reader")]
    result = []
    for _ in range(count):
        headers = {
            "host": [host],
            "x-acs-action": [action],
            "x-acs-version": [version],
            "x-acs-date": [stamp],
            "x-acs-signature-nonce": [secrets.token_hex(16)],
            "x-acs-content-sha256": [EMPTY_SHA256],
            "accept": ["application/json"],
        }
        if token:
            headers["x-acs-security-token"] = [token]
            headers["x-acs-accesskey-id"] = [key_id]
        signed = sorted(headers)
        canonical = v3_canonical_request("POST", "/", query, headers, signed, EMPTY_SHA256)
        signature = v3_signature(v3_string_to_sign(canonical), secret)
        flat = {k: v[0] for k, v in headers.items()}
        flat["Authorization"] = (
            f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders="
            f"{';'.join(signed)},Signature={signature}"
        )
        result.append(("/?" + urlencode(query), flat))
    return result


def client(port: int, requests: list | None, seconds: float, queue) -> None:
    latencies, errors, index = [], 0, 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        if requests is None:
            conn.request("GET", "/healthz")
        else:
            if index >= len(requests):
                break
            path, headers = requests[index]
            index += 1
            conn.request("POST", path, body=b"", headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            errors += 1
        latencies.append((time.perf_counter() - start) * 1000)
    queue.put((latencies, errors))


def load(port: int, per_client: list[list] | None) -> dict[str, float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=client, args=(port, per_client[i] if per_client else None, DURATION, queue)
        )
        for i in range(CLIENTS)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    latencies = [x for lat, _ in results for x in lat]
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "rps": len(latencies) / elapsed,
        "p50_ms": _django.percentile(latencies, 0.5),
        "p99_ms": _django.percentile(latencies, 0.99),
    }


def in_process_cost(key_id: str, secret: str) -> dict[str, float]:
    """µs to verify one request in-process: signature only, and the whole authenticate()."""
    from django.test import RequestFactory

    from openapi.auth import authenticate
    from openapi.signature import v3_canonical_request, v3_signature, v3_string_to_sign
    from policies.principal import RequestMeta

    batch = signed_requests(key_id, secret, "testserver", 2000)
    factory = RequestFactory()
    built = []
    for path, headers in batch:
        meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "host"}
        built.append(factory.post(path, data=b"", content_type="", HTTP_HOST="testserver", **meta))
    for request in built:  # warm: read bodies once like Django does
        request.body  # noqa: B018
    started = time.perf_counter()
    for request in built:
        authenticate(request, {"UserName": "reader"}, RequestMeta())
    full = (time.perf_counter() - started) / len(built) * 1e6
    headers = {"host": ["h"], "x-acs-action": ["GetUser"]}
    started = time.perf_counter()
    for _ in range(5000):
        canonical = v3_canonical_request(
            "POST", "/", [("UserName", "reader")], headers, sorted(headers), "e3b0"
        )
        v3_signature(v3_string_to_sign(canonical), secret)
    signature_only = (time.perf_counter() - started) / 5000 * 1e6
    return {"signature_us": signature_only, "authenticate_us": full}


@contextmanager
def gunicorn() -> Iterator[int]:
    """The app under gunicorn (WORKERS sync workers) on a free loopback port, until exit."""
    port = free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="iamconsole.settings",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        PYTHONPATH=str(_django.ROOT),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "iamconsole.wsgi:application",
            "-w",
            str(WORKERS),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=_django.ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    cache_url = redis_url()
    if cache_url:
        os.environ["REDIS_URL"] = cache_url
    _django.setup()
    creds = prepare()
    costs = in_process_cost(creds["key_id"], creds["secret"])
    with gunicorn() as port:
        load(port, None)  # warm both workers
        bare = load(port, None)
        capacity = int(max(bare["rps"], 500) * DURATION * 1.5 / CLIENTS) + 100
        host = f"127.0.0.1:{port}"
        per_client = [
            signed_requests(creds["key_id"], creds["secret"], host, capacity)
            for _ in range(CLIENTS)
        ]
        signed = load(port, per_client)
    ratio = signed["rps"] / bare["rps"]
    rows = [["bare Django view (/healthz)", bare], ["signed V3 GetUser", signed]]
    _django.print_table(
        f"API throughput: gunicorn {WORKERS} sync workers, {CLIENTS} client processes, "
        f"{DURATION:.0f}s, cache={'redis' if cache_url else 'database'}",
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
    print(f"\nratio signed/bare: {ratio:.2f}")
    print(
        f"in-process: signature {costs['signature_us']:.1f} µs, full authenticate() "
        f"{costs['authenticate_us']:.1f} µs (key lookup + decrypt + signature + nonce)"
    )
    _django.RESULTS.mkdir(parents=True, exist_ok=True)
    out = _django.RESULTS / "api_throughput.json"
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "workers": WORKERS,
                "clients": CLIENTS,
                "seconds": DURATION,
                "bare": bare,
                "signed": signed,
                "ratio": ratio,
                "in_process": costs,
                "cache": "redis" if cache_url else "database",
            },
            indent=2,
        )
    )
    print(f"written to {out.relative_to(_django.ROOT)}")


if __name__ == "__main__":
    main()
