"""The object store's own rules, without a server: names, files on disk, races, wiring."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from examples.objectstore.app import (
    HANDLERS,
    ObjectStoreApp,
    create_bucket,
    get_object,
    routes_for,
)
from examples.objectstore.store import Store, StoreError, decode_name, encode_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "key", ["a", "docs/2026/report.pdf", "../../etc/passwd", "..", ".", "ünï cødé ✓", "x" * 180]
)
def test_every_key_is_one_plain_file_name(key):
    name = encode_key(key)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name) <= 240
    assert decode_name(name) == key


@pytest.mark.parametrize("name", [".tmpabc", "not base64!", "a b", "", "\udcff"])
def test_other_file_names_are_no_keys(name):
    assert decode_name(name) is None


@pytest.mark.parametrize("key", ["", "/abs", "\\abs", "tab\there", "nul\x00", "x" * 181])
def test_bad_keys_are_refused(key):
    with pytest.raises(StoreError) as refused:
        encode_key(key)
    assert (refused.value.status, refused.value.code) == (400, "InvalidObjectName")


def test_objects_stay_inside_and_listing_skips_half_written_files(tmp_path):
    store = Store(tmp_path)
    store.create_bucket("b-1", owner="1000000000000001")
    store.put("b-1", "../../outside", b"data")
    store.put("b-1", "../../outside", b"newer")  # replaced atomically
    objects = tmp_path / "buckets/b-1/objects"
    (objects / ".tmp-half-written").write_bytes(b"partial")
    (objects / "stray file").write_bytes(b"?")
    assert [(s.key, s.size) for s in store.list("b-1")] == [("../../outside", 5)]
    assert store.get("b-1", "../../outside") == b"newer"
    inside = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert len(inside) == 4 and all(str(p).startswith("buckets/b-1/") for p in inside)
    assert not (tmp_path.parent / "outside").exists()


def test_racing_creators_of_one_bucket_get_one_winner(tmp_path):
    store = Store(tmp_path)
    outcomes: list[str] = []

    def create(owner: str) -> None:
        try:
            Store(tmp_path).create_bucket("contested", owner=owner)
            outcomes.append("created")
        except StoreError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=create, args=(f"{n:016d}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["BucketAlreadyExists"] * 7 + ["created"]
    assert store.owner("contested") is not None
    assert list((tmp_path / "tmp").iterdir()) == []  # no staging left behind


def test_a_bucket_owned_by_another_account_is_missing_for_the_caller(tmp_path):
    """Authorized in the caller's namespace while the bucket didn't exist, then created by
    another account before the handler ran: the handler must not act on it."""
    store = Store(tmp_path)
    create_bucket(store, {"Bucket": "late"}, "2000000000000002")
    store.put("late", "k", b"theirs")
    with pytest.raises(StoreError) as refused:
        get_object(store, {"Bucket": "late", "Key": "k"}, "1000000000000001")
    assert refused.value.code == "NoSuchBucket"
    assert get_object(store, {"Bucket": "late", "Key": "k"}, "2000000000000002") == {
        "Content": "theirs"
    }


def test_every_action_has_a_route_and_a_handler(tmp_path):
    routes = routes_for(Store(tmp_path))
    assert set(routes.routes) == set(HANDLERS)
    assert all(route.action == f"oss:{name}" for name, route in routes.routes.items())


def test_the_example_imports_neither_django_nor_iamconsole():
    apps = {"django", "iamconsole", "accounts", "policies", "openapi", "sts", "audit", "core"}
    probe = "import sys, examples.objectstore.__main__; print(' '.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {name.split(".")[0] for name in loaded} & apps == set()


def test_a_disk_failure_is_a_500_in_alibabas_shape(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.create_bucket("b-1", owner="1000000000000001")

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "put", full)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "Bucket=b-1&Key=k&Content=x",
        "HTTP_X_ACS_ACTION": "PutObject",
        "HTTP_X_ACS_VERSION": "2026-12-01",
        "wsgi.input": io.BytesIO(),
    }
    seen: list[str] = []
    body = b"".join(ObjectStoreApp(store)(environ, lambda status, headers: seen.append(status)))
    assert seen == ["500 Internal Server Error"]
    assert json.loads(body)["Code"] == "InternalError"
