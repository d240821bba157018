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
from openapi.params import UNSAFE_CHARACTERS

VERSION = "2026-12-01"
# In a resource, replaced by the authenticated caller's account id (e.g. CreateBucket).
CALLER_ACCOUNT = "${CallerAccountId}"
MAX_QUESTION_BYTES = 64 * 1024
MAX_RESOURCES = 20
HEX64 = re.compile(r"^[0-9a-f]{64}$")
ACTION_RE = re.compile(r"^([a-z][a-z0-9-]{0,31}):([A-Za-z0-9]{1,128})$")  # no wildcards
WILDCARDS = re.compile(r"[*?]")
ACCOUNT_RE = re.compile(r"^\d{16}$")
MAX_HEADERS = 100
MAX_HEADER_CHARS = 8192
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
    # A fault of the caller's request (a parameter given twice, oversized headers, a wildcard
    # or control character in a resource built from its parameters): the answer's error, for
    # the service to return to its caller — not a fault of the service's question.
    caller_error: ApiError | None = None

    def for_caller(self, account_uid: str) -> Question:
        """The question with `${CallerAccountId}` replaced, in the account field only."""
        return replace(self, resources=tuple(_with_account(r, account_uid) for r in self.resources))


def _with_account(resource: str, account_uid: str) -> str:
    parts = resource.split(":", 4)
    if parts[3] == CALLER_ACCOUNT:
        parts[3] = account_uid
    return ":".join(parts)


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
    if not isinstance(value, str) or len(value) > limit:
        raise invalid(name, f"Use a string of at most {limit} characters.")
    if UNSAFE_CHARACTERS.search(value):
        raise invalid(name, "It must not contain control characters or lone surrogates.")
    return value


def _caller_text(value: Any, name: str, limit: int, faults: list[ApiError]) -> str:
    """Text the caller sent, passed on by the service: a fault in it is the caller's."""
    if not isinstance(value, str):
        raise invalid(name, "Use a string.")
    if len(value) > limit:
        faults.append(ApiError("InvalidParameter.RequestSize", f"{name} is too large."))
    elif UNSAFE_CHARACTERS.search(value):
        faults.append(invalid(name, "It must not contain control characters."))
    return value


def _headers(value: Any, faults: list[ApiError]) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise invalid("Request.Headers", "Use an object of header names and values.")
    if len(value) > MAX_HEADERS:
        faults.append(ApiError("InvalidParameter.RequestSize", "The request has too many headers."))
    headers: dict[str, list[str]] = {}
    for name, given in value.items():
        values = given if isinstance(given, list) else [given]
        key = _caller_text(name, "Request.Headers", 128, faults).lower()
        headers[key] = [
            _caller_text(v, f"Request.Headers.{key}", MAX_HEADER_CHARS, faults) for v in values
        ]
    if "host" not in headers:
        raise missing("Request.Headers.host")
    return headers


def _params(query: str, form_body: str, faults: list[ApiError]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True) + parse_qsl(
        form_body, keep_blank_values=True
    ):
        if name in params:
            faults.append(
                ApiError(f"InvalidParameter.{name}", f"The parameter {name} is given twice.")
            )
        params[name] = value
    return params


def _signed_request(value: Any, faults: list[ApiError]) -> SignedRequest:
    raw = _object(value, "Request", REQUEST_FIELDS)
    method = _text(raw.get("Method"), "Request.Method", 16).upper()
    if method not in ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"):
        raise invalid("Request.Method", "Use an HTTP method.")
    body_sha256 = _text(raw.get("BodySha256"), "Request.BodySha256", 64).lower()
    if not HEX64.match(body_sha256):
        raise invalid("Request.BodySha256", "Use the hex SHA-256 of the request body.")
    query = _caller_text(raw.get("Query", ""), "Request.Query", 32768, faults)
    form_body = _caller_text(raw.get("FormBody", ""), "Request.FormBody", 32768, faults)
    return SignedRequest(
        method=method,
        path=_caller_text(raw.get("Path", "/"), "Request.Path", 2048, faults) or "/",
        query_string=query,
        headers=_headers(raw.get("Headers"), faults),
        body_sha256=body_sha256,
        params=_params(query, form_body, faults),
    )


def _resources(value: Any, faults: list[ApiError]) -> tuple[str, ...]:
    """Concrete ARNs: a wildcard would match an Allow pattern while slipping past a narrower
    Deny, and a resource is usually built from the caller's parameters (its fault then)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RESOURCES:
        raise invalid("Resources", f"Use a list of 1 to {MAX_RESOURCES} resource ARNs.")
    resources = tuple(_caller_text(item, "Resource", 1024, faults) for item in value)
    for resource in resources:
        parts = resource.split(":", 4)
        if len(parts) != 5 or parts[0] != "acs":
            raise invalid("Resources", f"{resource!r} is not an ARN (acs:<service>:…).")
        if not (ACCOUNT_RE.match(parts[3]) or parts[3] == CALLER_ACCOUNT):
            raise invalid(
                "Resources",
                f"{resource!r}: the account field is a 16-digit account id or {CALLER_ACCOUNT}.",
            )
        if CALLER_ACCOUNT in parts[4] or CALLER_ACCOUNT in ":".join(parts[:3]):
            raise invalid("Resources", f"{CALLER_ACCOUNT} may only stand for the account id.")
        if WILDCARDS.search(parts[4]):
            faults.append(
                invalid("Resource", "A resource asked about is concrete: no * or ? in it.")
            )
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
    faults: list[ApiError] = []
    return Question(
        request=_signed_request(raw.get("Request"), faults),
        action=action,
        resources=_resources(raw.get("Resources"), faults),
        source_ip=source_ip,
        secure_transport=secure,
        conditions=conditions,
        caller_error=faults[0] if faults else None,
    )
