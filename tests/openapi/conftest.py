"""Sign API requests in-process (V1 and V3) for the Django test client."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from openapi.signature import (
    EMPTY_SHA256,
    v1_signature,
    v1_string_to_sign,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Api:
    def __init__(self, key_id: str, secret: str, client: Client | None = None) -> None:
        self.key_id = key_id
        self.secret = secret
        self.client = client or Client()

    def v1(
        self,
        action: str,
        version: str = "2015-05-01",
        *,
        method: str = "POST",
        extra: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        query = {
            "Action": action,
            "Version": version,
            "Format": "JSON",
            "AccessKeyId": self.key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": secrets.token_hex(16),
            "Timestamp": now(),
            **{k: str(v) for k, v in params.items()},
            **(extra or {}),
        }
        query["Signature"] = v1_signature(v1_string_to_sign(method, query), self.secret)
        url = "/?" + urlencode(query)
        return self.client.get(url) if method == "GET" else self.client.post(url)

    def v3(self, action: str, version: str = "2015-05-01", **params: Any) -> Any:
        query = sorted((k, str(v)) for k, v in params.items())
        headers = {
            "host": ["testserver"],
            "x-acs-action": [action],
            "x-acs-version": [version],
            "x-acs-date": [now()],
            "x-acs-signature-nonce": [secrets.token_hex(16)],
            "x-acs-content-sha256": [EMPTY_SHA256],
            "accept": ["application/json"],
        }
        signed = sorted(headers)
        canonical = v3_canonical_request("POST", "/", query, headers, signed, EMPTY_SHA256)
        signature = v3_signature(v3_string_to_sign(canonical), self.secret)
        authorization = (
            f"ACS3-HMAC-SHA256 Credential={self.key_id},"
            f"SignedHeaders={';'.join(signed)},Signature={signature}"
        )
        meta = {
            f"HTTP_{name.upper().replace('-', '_')}": values[0] for name, values in headers.items()
        }
        return self.client.post(
            "/?" + urlencode(query),
            data=b"",
            content_type="application/json",
            HTTP_AUTHORIZATION=authorization,
            **meta,
        )


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.fixture
def api_for():
    """api_for(user) -> an Api signing with a fresh AccessKey of that user."""
    from accounts.access_keys import access_key_create
    from tests.conftest import principal_for

    def make(user):
        from accounts.models import User

        owner = User.objects.select_related("account").get(pk=user.pk)
        root = User.objects.get(account_id=owner.account_id, kind="root")
        key, secret = access_key_create(actor=principal_for(root), user=owner)
        return Api(key.access_key_id, secret)

    return make
