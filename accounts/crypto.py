"""Encryption of signing secrets at rest: AES-256-GCM under keys from IAM_ENCRYPTION_KEYS.

The setting lists keys newest first. Each stored value names the key that sealed it, so old
keys keep decrypting until `rotateencryptionkeys` has re-sealed everything with the newest.
AccessKey secrets can't be hashed: verifying an HMAC signature needs the secret itself.

Bearer secrets (STS tokens, recovery codes) are kept as keyed digests under SECRET_KEY; they are
checked against SECRET_KEY then each of SECRET_KEY_FALLBACKS, so rotating the key doesn't
invalidate them until the old key leaves the fallbacks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "aesgcm1"


class SecretUnavailable(Exception):
    """A stored secret can't be decrypted with any configured key."""


@lru_cache(maxsize=16)
def _derive(material: str) -> tuple[str, AESGCM]:
    """A 256-bit key from one configured entry, and a short id that names it."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"iamconsole secrets at rest"
    ).derive(material.encode())
    key_id = hashlib.sha256(b"key-id:" + key).hexdigest()[:12]
    return key_id, AESGCM(key)


def _keys() -> list[tuple[str, AESGCM]]:
    return [_derive(material) for material in settings.IAM_ENCRYPTION_KEYS]


def encrypt(plaintext: str, *, context: str) -> str:
    """Seal with the newest key; `context` (e.g. the AccessKeyId) is bound as associated data."""
    key_id, aead = _keys()[0]
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}:{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, *, context: str) -> str:
    try:
        prefix, key_id, payload = stored.split(":", 2)
        raw = base64.urlsafe_b64decode(payload)
    except ValueError as exc:
        raise SecretUnavailable("malformed stored secret") from exc
    if prefix != PREFIX:
        raise SecretUnavailable(f"unknown scheme {prefix}")
    for candidate_id, aead in _keys():
        if candidate_id == key_id:
            try:
                return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
            except Exception as exc:  # InvalidTag: tampered or wrong context
                raise SecretUnavailable("stored secret failed authentication") from exc
    raise SecretUnavailable(f"no configured key {key_id}")


def sealed_with_newest(stored: str) -> bool:
    return stored.split(":", 2)[1:2] == [_keys()[0][0]]


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the current SECRET_KEY, domain-separated by `purpose`."""
    return salted_hmac(purpose, value, algorithm="sha256").hexdigest()


def keyed_digests(purpose: str, value: str) -> list[str]:
    """The digests of `value` under SECRET_KEY then each of SECRET_KEY_FALLBACKS."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [salted_hmac(purpose, value, secret=k, algorithm="sha256").hexdigest() for k in keys]


def keyed_digest_matches(purpose: str, value: str, stored: str) -> bool:
    """Whether `stored` is the digest of `value` under the current or a fallback key."""
    found = False
    for digest in keyed_digests(purpose, value):
        found |= hmac.compare_digest(digest, stored)  # no early exit: same cost either way
    return found
