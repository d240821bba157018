"""A test OIDC identity provider: an RSA key pair, its JWKS document, and tokens it signs."""

from __future__ import annotations

import json
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

ISSUER = "https://idp.example.test"
CLIENT_ID = "sts.iamconsole"


class TestIdp:
    __test__ = False

    def __init__(self, kid: str = "idp-key-1") -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})
        self.keys = KeySet([self.key])

    @property
    def jwks(self) -> str:
        return json.dumps(self.keys.as_dict(private=False))

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "system:serviceaccount:payments:api",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 600,
            "jti": f"{now}-{time.perf_counter_ns()}",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.keys)

    def hs256_token(self, **overrides: Any) -> str:
        """Signed with a shared secret: must be refused whatever the secret."""
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "x", "aud": CLIENT_ID, "iat": now, "exp": now + 600}
        claims.update(overrides)
        return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key("s" * 32))
