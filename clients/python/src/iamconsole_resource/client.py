"""Ask iamconsole who signed a request and whether they may: one pooled HTTPS/HTTP call.

Fails closed: a timeout, a refused connection, an error answer or a body that isn't an answer
raises `Unavailable`, which the middleware turns into 503 ServiceUnavailable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

from iamconsole_resource.errors import ErrorReply
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.signing import sign

VERSION = "2026-12-01"
PATH = f"/resource-services/{VERSION}/authorize"


class Unavailable(Exception):
    """iamconsole could not answer; the request must be refused (503)."""


@dataclass(frozen=True)
class Principal:
    """Who signed the request, as iamconsole resolved it."""

    type: str  # Root | RAMUser | AssumedRoleUser | Service
    arn: str
    account_id: str
    access_key_id: str
    mfa_present: bool
    user_name: str = ""
    role_name: str = ""
    role_session_name: str = ""

    @classmethod
    def from_answer(cls, raw: Mapping[str, Any]) -> Principal:
        return cls(
            type=str(raw.get("Type", "")),
            arn=str(raw.get("Arn", "")),
            account_id=str(raw.get("AccountId", "")),
            access_key_id=str(raw.get("AccessKeyId", "")),
            mfa_present=bool(raw.get("MfaPresent")),
            user_name=str(raw.get("UserName", "")),
            role_name=str(raw.get("RoleName", "")),
            role_session_name=str(raw.get("RoleSessionName", "")),
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    principal: Principal | None
    decision: str | None  # Allow | ExplicitDeny | ImplicitDeny; None when not authenticated
    deciding_statement: Mapping[str, Any] | None
    error: ErrorReply | None


def _setting(given: str | None, variable: str) -> str:
    value = given or os.environ.get(variable, "")
    if not value:
        raise ValueError(f"{variable} is not set (nor given to Authorizer)")
    return value


class Authorizer:
    """One per process, shared by every thread (the connection pool is thread-safe). Reads
    IAM_ENDPOINT, IAM_SERVICE_ACCESS_KEY_ID and IAM_SERVICE_ACCESS_KEY_SECRET when not given.
    `timeout` bounds connecting and each read, in seconds."""

    def __init__(
        self,
        endpoint: str | None = None,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        *,
        timeout: float = 3.0,
        pool_size: int = 16,
        allow_plain_http: bool = False,
    ) -> None:
        self.endpoint = _setting(endpoint, "IAM_ENDPOINT").rstrip("/")
        self.access_key_id = _setting(access_key_id, "IAM_SERVICE_ACCESS_KEY_ID")
        self._secret = _setting(access_key_secret, "IAM_SERVICE_ACCESS_KEY_SECRET")
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("IAM_ENDPOINT must be an http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ValueError("IAM_ENDPOINT takes no query or fragment")
        if parts.scheme == "http" and not (allow_plain_http or _loopback(parts.hostname or "")):
            # An answer over plain HTTP could be forged on the way: every request would pass.
            raise ValueError(
                "IAM_ENDPOINT must be https:// unless iamconsole is on a loopback address "
                "(or pass allow_plain_http=True for a network you trust)"
            )
        self._host = parts.netloc
        self._path = parts.path.rstrip("/") + PATH  # iamconsole may be mounted under a prefix
        self._url = self.endpoint + PATH
        self._pool = urllib3.PoolManager(
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )

    def close(self) -> None:
        """Close the pooled connections (they reopen when needed)."""
        self._pool.clear()

    def question(
        self,
        request: IncomingRequest,
        action: str,
        resources: list[str],
        conditions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON the service sends (docs/resource-services.md). Only the headers the
        signature needs go; a form body goes for V1, which signs its parameters (V3 covers the
        body by its hash)."""
        signed_request: dict[str, Any] = {
            "Method": request.method,
            "Path": request.path,
            "Query": request.query_string,
            "Headers": request.signature_headers(),
            "BodySha256": hashlib.sha256(request.body).hexdigest(),
        }
        if request.form_body and not request.is_v3:
            signed_request["FormBody"] = request.form_body
        context: dict[str, Any] = {"SecureTransport": request.secure}
        if request.source_ip:
            context["SourceIp"] = request.source_ip
        if conditions:
            context["Conditions"] = dict(conditions)
        return {
            "Request": signed_request,
            "Action": action,
            "Resources": resources,
            "Context": context,
        }

    def authorize(
        self,
        request: IncomingRequest,
        action: str,
        resources: list[str],
        conditions: Mapping[str, Any] | None = None,
    ) -> Decision:
        body = json.dumps(self.question(request, action, resources, conditions)).encode()
        headers = sign(
            method="POST",
            host=self._host,
            path=self._path,
            action="Authorize",
            version=VERSION,
            body=body,
            content_type="application/json",
            access_key_id=self.access_key_id,
            access_key_secret=self._secret,
        )
        try:
            response = self._pool.request("POST", self._url, body=body, headers=headers)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unavailable(f"iamconsole unreachable: {type(exc).__name__}") from exc
        return _decision(response.status, response.data)


def _loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _decision(status: int, data: bytes) -> Decision:
    try:
        answer = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Unavailable(f"iamconsole answered {status} without JSON") from exc
    if status != 200 or not isinstance(answer, dict) or "Allowed" not in answer:
        code = answer.get("Code", "") if isinstance(answer, dict) else ""
        raise Unavailable(f"iamconsole refused the service's question: {status} {code}")
    error = answer.get("Error")
    reply = None
    if error is not None and not isinstance(error, dict):
        raise Unavailable("iamconsole's answer has a malformed Error")
    if isinstance(error, dict):
        status = error.get("HttpStatus", 403)
        if not (isinstance(status, int) and 400 <= status <= 599):
            raise Unavailable(f"iamconsole's answer has a bad HttpStatus: {status!r}")
        reply = ErrorReply(
            status=status,
            code=str(error.get("Code", "NoPermission")),
            message=str(error.get("Message", "")),
            request_id=str(error.get("RequestId") or answer.get("RequestId", "")),
            host_id=str(error.get("HostId", "iamconsole")),
        )
    principal = answer.get("Principal")
    allowed = answer.get("Allowed") is True and reply is None
    if allowed and not isinstance(principal, dict):
        raise Unavailable("iamconsole allowed the request without naming its principal")
    return Decision(
        allowed=allowed,
        principal=Principal.from_answer(principal) if isinstance(principal, dict) else None,
        decision=answer.get("Decision"),
        deciding_statement=answer.get("DecidingStatement"),
        error=reply,
    )
