"""The object store as a real process (`python -m examples.objectstore`), asking the live
server, registered as the service `oss.example`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sts.service_principals import service_create

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningStore:
    endpoint: str  # "127.0.0.1:PORT", as the SDKs take it
    port: int
    data: Path
    log: Path
    process: subprocess.Popen

    def files(self) -> set[str]:
        """Every file under the data directory, relative to it."""
        return {str(p.relative_to(self.data)) for p in self.data.rglob("*") if p.is_file()}


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the object store exited {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the object store did not listen on {port}:\n{log.read_text()}")


@pytest.fixture
def oss_service(db) -> tuple[str, str]:
    """The key pair of the registered service oss.example (as `createservice --json` gives)."""
    record, secret = service_create(name="oss.example")
    return record.access_key_id, secret


@pytest.fixture
def start_objectstore(live_server, oss_service, tmp_path) -> Iterator[Callable[..., RunningStore]]:
    """start_objectstore(iam_endpoint=None, *options) -> a running object store (extra command
    line options, e.g. "--workers", "1"), stopped after the test."""
    running: list[RunningStore] = []

    def start(iam_endpoint: str | None = None, *options: str) -> RunningStore:
        port = free_port()
        data = tmp_path / f"objectstore-{port}"
        log = tmp_path / f"objectstore-{port}.log"
        env = {
            **os.environ,
            "IAM_ENDPOINT": iam_endpoint or live_server.url,
            "IAM_SERVICE_ACCESS_KEY_ID": oss_service[0],
            "IAM_SERVICE_ACCESS_KEY_SECRET": oss_service[1],
        }
        command = [sys.executable, "-m", "examples.objectstore", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--data", str(data), *options]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        store = RunningStore(f"127.0.0.1:{port}", port, data, log, process)
        running.append(store)
        _wait_listening(port, process, log)
        return store

    yield start
    for store in running:
        store.process.terminate()
        try:
            store.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            store.process.kill()
            store.process.wait()


@pytest.fixture
def objectstore(start_objectstore) -> RunningStore:
    return start_objectstore()
