"""ACS3-HMAC-SHA256: how a service signs its own calls to iamconsole (the body is covered)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


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
) -> dict[str, str]:
    """The headers of a signed call with an empty query string."""
    headers = {
        "host": host,
        "content-type": content_type,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    names = sorted(headers)
    canonical = "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/~"),
            "",
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            ";".join(names),
            headers["x-acs-content-sha256"],
        ]
    )
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(
        access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    headers["authorization"] = (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    return headers
