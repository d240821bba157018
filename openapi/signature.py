"""Alibaba's request signatures, pure functions: V1 (HMAC-SHA1, RPC) and V3 (ACS3-HMAC-SHA256).

Reference §2 and §3; the test vectors there are in tests/openapi/test_signature.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986: unreserved characters literal, everything else %XY (space is %20)."""
    return quote(value, safe="-_.~")


def _form_encode(value: str) -> str:
    """The credentials provider's encoding: quote_plus, so a space becomes '+'."""
    return quote_plus(value, safe="-_.~")


def v1_string_to_sign(method: str, params: Mapping[str, str], *, form_style: bool = False) -> str:
    encode = _form_encode if form_style else percent_encode
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)
    return f"{method.upper()}&{encode('/')}&{encode(canonical)}"


def v1_signature(string_to_sign: str, secret: str) -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def v3_canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, list[str]],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    canonical_query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(query))
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.get(name, [''])))}\n"
        for name in signed_headers
    )
    return "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/~"),
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def v3_string_to_sign(canonical_request: str) -> str:
    return f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"


def v3_signature(string_to_sign: str, secret: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
