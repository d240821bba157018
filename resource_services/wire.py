"""The authorization API's JSON (version 2026-12-01): a question parsed and checked, an answer
rendered. docs/resource-services.md is its specification."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from openapi.auth import SignedRequest
from openapi.errors import ApiError, invalid, missing

VERSION = "2026-12-01"
# In a resource, replaced by the authenticated caller's account id (e.g. CreateBucket).
CALLER_ACCOUNT = "${CallerAccountId}"
MAX_QUESTION_BYTES = 64 * 1024
MAX_RESOURCES = 20
HEX64 = re.compile(r"^[0-9a-f]{64}$")
ACTION_RE = re.compile(r"^([a-z][a-z0-9-]{0,31}):([A-Za-z0-9*?]{1,128})$")
CONDITION_KEY_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9_.-]{1,64}$")
ALLOWED_FIELDS = {"Request", "Action", "Resources", "Context"}
REQUEST_FIELDS = {"Method", "Path", "Query", "Headers", "BodySha256", "FormBody"}
CONTEXT_FIELDS = {"SourceIp", "SecureTransport", "Conditions"}


@dataclass(frozen=True)
class Question:
    """A service asks: who signed this request, and may they do `action` on `resources`?"""

    request: SignedRequest
    action: str
    resources: tuple[str, ...]
    source_ip: str | None
    secure_transport: bool
    conditions: dict[str, Any] = field(default_factory=dict)

    def for_caller(self, account_uid: str) -> Question:
        """The question with `${CallerAccountId}` in its resources replaced."""
        resources = tuple(r.replace(CALLER_ACCOUNT, account_uid) for r in self.resources)
        return replace(self, resources=resources)


def _object(value: Any, name: str, fields: set[str]) -> dict[str, Any]:
    if value is None:
        raise missing(name)
    if not isinstance(value, dict):
        raise invalid(name, "Use a JSON object.")
    unknown = sorted(set(value) - fields)
    if unknown:
        raise invalid(name, f"Unknown field(s): {', '.join(unknown)}.")
    return value


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if value is None:
        raise missing(name)
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise invalid(name, f"Use a string of at most {limit} characters.")
    return value


def _headers(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict) or len(value) > 100:
        raise invalid("Request.Headers", "Use an object of at most 100 headers.")
    headers: dict[str, list[str]] = {}
    for name, given in value.items():
        values = given if isinstance(given, list) else [given]
        key = _text(name, "Request.Headers", 128).lower()
        headers[key] = [_text(v, f"Request.Headers.{key}", 8192) for v in values]
    if "host" not in headers:
        raise missing("Request.Headers.host")
    return headers


def _params(query: str, form_body: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True) + parse_qsl(
        form_body, keep_blank_values=True
    ):
        if name in params:
            raise ApiError(f"InvalidParameter.{name}", f"The parameter {name} is given twice.")
        params[name] = value
    return params


def _signed_request(value: Any) -> SignedRequest:
    raw = _object(value, "Request", REQUEST_FIELDS)
    method = _text(raw.get("Method"), "Request.Method", 16).upper()
    if method not in ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"):
        raise invalid("Request.Method", "Use an HTTP method.")
    body_sha256 = _text(raw.get("BodySha256"), "Request.BodySha256", 64).lower()
    if not HEX64.match(body_sha256):
        raise invalid("Request.BodySha256", "Use the hex SHA-256 of the request body.")
    query = _text(raw.get("Query"), "Request.Query", 32768, required=False)
    form_body = _text(raw.get("FormBody"), "Request.FormBody", 32768, required=False)
    return SignedRequest(
        method=method,
        path=_text(raw.get("Path"), "Request.Path", 2048) or "/",
        query_string=query,
        headers=_headers(raw.get("Headers")),
        body_sha256=body_sha256,
        params=_params(query, form_body),
    )


def _resources(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RESOURCES:
        raise invalid("Resources", f"Use a list of 1 to {MAX_RESOURCES} resource ARNs.")
    resources = tuple(_text(item, "Resources", 1024) for item in value)
    for resource in resources:
        if not (resource.startswith("acs:") and resource.count(":") >= 4):
            raise invalid("Resources", f"{resource!r} is not an ARN (acs:<service>:…).")
    return resources


def _context(value: Any, prefix: str) -> tuple[str | None, bool, dict[str, Any]]:
    raw = _object(value if value is not None else {}, "Context", CONTEXT_FIELDS)
    source_ip = raw.get("SourceIp")
    if source_ip is not None:
        try:
            source_ip = str(ipaddress.ip_address(_text(source_ip, "Context.SourceIp", 64)))
        except ValueError as exc:
            raise invalid("Context.SourceIp", "Use an IPv4 or IPv6 address.") from exc
    secure = raw.get("SecureTransport", False)
    if not isinstance(secure, bool):
        raise invalid("Context.SecureTransport", "Use true or false.")
    conditions = raw.get("Conditions") or {}
    if not isinstance(conditions, dict) or len(conditions) > 20:
        raise invalid("Context.Conditions", "Use an object of at most 20 condition keys.")
    for key, given in conditions.items():
        if not (isinstance(key, str) and CONDITION_KEY_RE.match(key)):
            raise invalid("Context.Conditions", f"{key!r} is not a condition key.")
        if key.split(":", 1)[0] != prefix:
            raise invalid(
                "Context.Conditions",
                f"{key} is not a key of {prefix}: a service sets only its own condition keys.",
            )
        values = given if isinstance(given, list) else [given]
        if not all(isinstance(v, str | int | bool) for v in values):
            raise invalid("Context.Conditions", f"{key} takes strings, numbers or booleans.")
    return source_ip, secure, {k.lower(): v for k, v in conditions.items()}


def question_of(body: bytes) -> Question:
    """Parse a question; every malformed part is refused with the field it concerns."""
    if len(body) > MAX_QUESTION_BYTES:
        raise ApiError("InvalidParameter.RequestSize", "The question is larger than 64 KiB.")
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ApiError("InvalidParameter.Body", "The body is not a JSON object.") from exc
    raw = _object(raw, "Body", ALLOWED_FIELDS)
    action = _text(raw.get("Action"), "Action", 161)
    if not ACTION_RE.match(action):
        raise invalid("Action", "Use <service>:<Action>, e.g. oss:GetObject.")
    source_ip, secure, conditions = _context(raw.get("Context"), action.split(":", 1)[0])
    return Question(
        request=_signed_request(raw.get("Request")),
        action=action,
        resources=_resources(raw.get("Resources")),
        source_ip=source_ip,
        secure_transport=secure,
        conditions=conditions,
    )
