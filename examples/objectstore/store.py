"""Buckets and objects on disk, with names that can't escape the data directory.

Layout under the data directory:
    buckets/<bucket>/bucket.json          {"Name", "Owner" (account uid), "CreatedAt"}
    buckets/<bucket>/objects/<name>       the object's bytes; <name> = base64url(key), unpadded
    tmp/                                  staging for new buckets
A bucket appears by renaming a complete staging directory into place and an object by renaming
a complete temporary file over its name, so a reader never sees half of either. Buckets are
never deleted or given away, so an owner, once read, is cached.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
# base64url of 180 bytes is 240 characters: under the usual 255-byte file-name limit.
MAX_KEY_BYTES = 180
ENCODED_NAME = re.compile(r"[A-Za-z0-9_-]+")
TEMPORARY_PREFIX = "."  # never produced by base64url, so listings skip half-written files


class StoreError(Exception):
    """A refusal the caller should see: HTTP status, Alibaba error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def no_such_bucket(bucket: str) -> StoreError:
    return StoreError(404, "NoSuchBucket", f"The bucket {bucket!r} does not exist.")


@dataclass(frozen=True)
class ObjectSummary:
    key: str
    size: int


def check_bucket_name(bucket: str) -> str:
    """3–63 lower-case letters, digits and hyphens, starting and ending with a letter or digit."""
    if not BUCKET_NAME.fullmatch(bucket):
        raise StoreError(
            400,
            "InvalidBucketName",
            "A bucket name is 3-63 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit.",
        )
    return bucket


def check_key(key: str) -> str:
    """1–180 UTF-8 bytes, no control characters, not starting with a slash or backslash."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        size = 0
    printable = all(ord(c) >= 32 and ord(c) != 127 for c in key)
    if not (1 <= size <= MAX_KEY_BYTES and printable and key[0] not in "/\\"):
        raise StoreError(
            400,
            "InvalidObjectName",
            f"An object key is 1-{MAX_KEY_BYTES} UTF-8 bytes without control characters, "
            "not starting with / or \\.",
        )
    return key


def encode_key(key: str) -> str:
    return base64.urlsafe_b64encode(check_key(key).encode("utf-8")).decode().rstrip("=")


def decode_name(name: str) -> str | None:
    """The key a file name stands for; None for anything else (temporary files, strays)."""
    if not ENCODED_NAME.fullmatch(name):
        return None
    try:
        return base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Store:
    """The object store's data; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.buckets = self.root / "buckets"
        self.staging = self.root / "tmp"
        self.buckets.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def owner(self, bucket: str) -> str | None:
        """The account uid owning `bucket`, or None when there is no such bucket."""
        cached = self._owners.get(bucket)
        if cached is not None:
            return cached
        try:
            meta = json.loads((self._bucket_dir(bucket) / "bucket.json").read_bytes())
        except FileNotFoundError:
            return None
        with self._lock:
            self._owners[bucket] = str(meta["Owner"])
        return str(meta["Owner"])

    def create_bucket(self, bucket: str, owner: str) -> None:
        target = self._bucket_dir(bucket)
        staged = Path(tempfile.mkdtemp(dir=self.staging))
        try:
            (staged / "objects").mkdir()
            meta = {
                "Name": bucket,
                "Owner": owner,
                "CreatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            write_atomically(staged / "bucket.json", json.dumps(meta).encode())
            # rename() refuses to replace a non-empty directory: the first creator wins.
            os.rename(staged, target)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            if target.exists():
                raise StoreError(
                    409, "BucketAlreadyExists", f"The bucket {bucket!r} already exists."
                ) from exc
            raise

    def put(self, bucket: str, key: str, data: bytes) -> None:
        write_atomically(self._object_path(bucket, key), data)

    def get(self, bucket: str, key: str) -> bytes:
        try:
            return self._object_path(bucket, key).read_bytes()
        except FileNotFoundError:
            raise _no_such_key(key) from None

    def delete(self, bucket: str, key: str) -> None:
        try:
            self._object_path(bucket, key).unlink()
        except FileNotFoundError:
            raise _no_such_key(key) from None

    def list(self, bucket: str, prefix: str = "") -> list[ObjectSummary]:
        """Objects whose key starts with `prefix`, in key order."""
        found = []
        with os.scandir(self._objects_dir(bucket)) as entries:
            for entry in entries:
                key = decode_name(entry.name)
                if key is not None and key.startswith(prefix) and entry.is_file():
                    found.append(ObjectSummary(key, entry.stat().st_size))
        return sorted(found, key=lambda summary: summary.key)

    def _bucket_dir(self, bucket: str) -> Path:
        return self.buckets / check_bucket_name(bucket)

    def _objects_dir(self, bucket: str) -> Path:
        if self.owner(bucket) is None:
            raise no_such_bucket(bucket)
        return self._bucket_dir(bucket) / "objects"

    def _object_path(self, bucket: str, key: str) -> Path:
        directory = self._objects_dir(bucket)
        path = directory / encode_key(key)
        if path.parent != directory:  # unreachable with base64url names; kept as a tripwire
            raise StoreError(400, "InvalidObjectName", "The key does not name a file.")
        return path


def _no_such_key(key: str) -> StoreError:
    return StoreError(404, "NoSuchKey", f"The object {key!r} does not exist.")
