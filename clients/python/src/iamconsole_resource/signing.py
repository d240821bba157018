"""ACS3-HMAC-SHA256: how a service signs its own calls to iamconsole (the body is covered).

`canonical_request` and `authorization` are the algorithm itself (Alibaba's V3 signature, the
one iamconsole verifies); `sign` adds the headers of one call with a fresh date and nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"


def percent_encode(value: str) -> str:
    """RFC 3986: unreserved characters literal, everything else %XY (a space is %20)."""
    return quote(value, safe="-_.~")


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload_hash: str,
) -> str:
    """The V3 canonical request; `headers` keyed by lower-case name."""
    names = list(signed_headers)
    canonical_query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(query))
    return "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/~"),
            canonical_query,
            "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def signature(string: str, secret: str) -> str:
    return hmac.new(secret.encode(), string.encode(), hashlib.sha256).hexdigest()


def authorization(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    payload_hash: str,
    access_key_id: str,
    access_key_secret: str,
) -> str:
    """The Authorization header value, signing every header given (lower-case names)."""
    names = sorted(headers)
    canonical = canonical_request(method, path, query, headers, names, payload_hash)
    return (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(names)},"
        f"Signature={signature(string_to_sign(canonical), access_key_secret)}"
    )


def sign(
    *,
    method: str,
    host: str,
    path: str,
    action: str,
    version: str,
    body: bytes,
    content_type: str,
    access_key_id: str,
    access_key_secret: str,
    date: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers of a signed call with an empty query string (a fresh date and nonce unless
    given)."""
    headers = {
        "host": host,
        "content-type": content_type,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": (date or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    headers["authorization"] = authorization(
        method=method,
        path=path,
        query=(),
        headers=headers,
        payload_hash=headers["x-acs-content-sha256"],
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
    )
    return headers
