"""Argon2id tuned for a console: ASVS-compliant cost, bounded memory and concurrency."""

from __future__ import annotations

import threading
import unicodedata

from django.contrib.auth.hashers import Argon2PasswordHasher

# At most this many hashes run at once per process (each takes memory_cost KiB).
_HASH_SLOTS = threading.BoundedSemaphore(4)


def normalize_password(password: str) -> str:
    """NFKC, so the same password typed in composed or decomposed form is one password."""
    return unicodedata.normalize("NFKC", password)


class IamArgon2PasswordHasher(Argon2PasswordHasher):
    # argon2id t=2, m=19 MiB, p=1: the OWASP/ASVS 5.0 minimum for t=2.
    time_cost = 2
    memory_cost = 19456
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with _HASH_SLOTS:
            return super().encode(normalize_password(password), salt)

    def verify(self, password: str, encoded: str) -> bool:
        with _HASH_SLOTS:
            return super().verify(normalize_password(password), encoded)
