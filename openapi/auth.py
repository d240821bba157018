"""Authenticate a signed request to a Principal: V1 (HMAC-SHA1) or V3 (ACS3-HMAC-SHA256).

Order: the AccessKey must exist; the signature must match; then the key must be active; then
the timestamp must be within ±15 minutes and the nonce unused (a durable record in the
database's single-use store for 31 minutes; if the store fails, the request fails closed).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from django.http import HttpRequest
from django.utils import timezone

from accounts.crypto import SecretUnavailable, decrypt
from accounts.selectors import KeyRecord, access_key_record
from openapi import signature
from openapi.errors import ApiError, signature_mismatch
from openapi.params import UNSAFE_CHARACTERS
from policies.principal import Principal, RequestMeta
from singleuse.services import NONCE, use_once
from sts.selectors import StsRecord, sts_record
from sts.service_principals import ServiceRecord, service_record

logger = logging.getLogger(__name__)
SKEW = timedelta(minutes=15)
NONCE_TTL = 31 * 60
V3_REQUIRED_HEADERS = {
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
}


Verified = tuple[KeyRecord | StsRecord | ServiceRecord, str, str]  # (credential, timestamp, nonce)


@dataclass(frozen=True)
class SignedRequest:
    """The parts of a request that its signature covers, wherever it was received: by this
    server's API, or by a resource service that forwards them for verification."""

    method: str
    path: str
    query_string: str
    headers: dict[str, list[str]]  # lower-case names; "host" as the client sent it
    body_sha256: str
    params: dict[str, str]  # query ∪ form body (V1 signs them all)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


def signed_request_of(request: HttpRequest, params: dict[str, str]) -> SignedRequest:
    return SignedRequest(
        method=request.method or "GET",
        path=request.path,
        query_string=request.META.get("QUERY_STRING", ""),
        headers=_request_headers(request),
        body_sha256=hashlib.sha256(request.body).hexdigest(),
        params=params,
    )


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    key: KeyRecord | StsRecord | ServiceRecord


def authenticate(request: HttpRequest, params: dict[str, str], meta: RequestMeta) -> Authenticated:
    return authenticate_signed(signed_request_of(request, params), meta)


def authenticate_signed(signed: SignedRequest, meta: RequestMeta) -> Authenticated:
    """Verify the signature, the credential, the clock and the nonce; the caller's Principal."""
    header = signed.header("authorization") or ""
    if header.startswith("ACS3-"):
        key, timestamp, nonce = _verify_v3(signed, header)
        token = signed.header("x-acs-security-token")
    elif "Signature" in signed.params:
        key, timestamp, nonce = _verify_v1(signed)
        token = signed.params.get("SecurityToken")
    else:
        raise ApiError(
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards: no signature.",
        )
    if isinstance(key, StsRecord):
        key.check(token)
    elif isinstance(key, ServiceRecord):
        key.check()
    else:
        _check_key_usable(key)
    _check_timestamp(timestamp)
    _remember_nonce(key.access_key_id, nonce)
    return Authenticated(key.principal(meta), key)


def credential_owner(request: HttpRequest, params: dict[str, str]) -> tuple[int | None, str, str]:
    return claimed_credential(params, request.META.get("HTTP_AUTHORIZATION", ""))


def claimed_credential(params: dict[str, str], header: str) -> tuple[int | None, str, str]:
    """(account id, principal ARN, key id) of the key a request claims, for auditing a failure;
    (None, "", key id) when no such key exists."""
    key_id = params.get("AccessKeyId", "")
    if header.startswith("ACS3-") and "Credential=" in header:
        key_id = header.split("Credential=", 1)[1].split(",", 1)[0].strip()
    try:
        key = _find_key(key_id)
    except ApiError:
        return None, "", key_id
    if isinstance(key, ServiceRecord):
        return None, key.principal(RequestMeta()).arn, key_id
    return key.account_id, key.principal(RequestMeta()).arn, key_id


def _find_key(access_key_id: str) -> KeyRecord | StsRecord | ServiceRecord:
    key: KeyRecord | StsRecord | ServiceRecord | None = None
    if len(access_key_id) > 128 or UNSAFE_CHARACTERS.search(access_key_id):
        pass  # no key has such an id: never looked up (PostgreSQL refuses NUL in text)
    elif access_key_id.startswith("STS."):
        key = sts_record(access_key_id)
    elif access_key_id.startswith("LTAS"):
        key = service_record(access_key_id)
    elif access_key_id:
        key = access_key_record(access_key_id)
    if key is None:
        raise ApiError(
            "InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404
        )
    return key


def _secret(key: KeyRecord | StsRecord | ServiceRecord) -> str:
    try:
        return decrypt(key.secret_sealed, context=key.access_key_id)
    except SecretUnavailable as exc:
        logger.error("AccessKey %s can't be decrypted: %s", key.access_key_id, exc)
        raise ApiError("InternalError", "An internal error occurred.", status=500) from exc


def _verify_v1(signed: SignedRequest) -> Verified:
    params = signed.params
    if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
        raise ApiError("InvalidSignatureMethod", "Specified signature method is not valid.")
    if params.get("SignatureVersion", "1.0") != "1.0":
        raise ApiError("InvalidSignatureVersion", "Specified signature version is not valid.")
    key = _find_key(params.get("AccessKeyId", ""))
    secret = _secret(key)
    string_to_sign = signature.v1_string_to_sign(signed.method, params)
    given = params["Signature"]
    if not signature.same(signature.v1_signature(string_to_sign, secret), given):
        # The credentials provider encodes spaces as '+': accept that form too.
        form_style = signature.v1_string_to_sign(signed.method, params, form_style=True)
        if form_style == string_to_sign or not signature.same(
            signature.v1_signature(form_style, secret), given
        ):
            raise signature_mismatch(string_to_sign)
    return key, params.get("Timestamp", ""), params.get("SignatureNonce", "")


def _parse_authorization(header: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = header.partition(" ")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name] = value
    if algorithm != signature.V3_ALGORITHM:
        raise ApiError("InvalidSignatureMethod", "Specified signature method is not valid.")
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        raise ApiError(
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards: the Authorization "
            "header needs Credential, SignedHeaders and Signature.",
        )
    return algorithm, parts


def _request_headers(request: HttpRequest) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    headers["host"] = [request.META.get("HTTP_HOST", "")]
    return headers


def _verify_v3(request: SignedRequest, header: str) -> Verified:
    _, parts = _parse_authorization(header)
    signed = [h.strip().lower() for h in parts["SignedHeaders"].split(";") if h.strip()]
    headers = request.headers
    required = set(V3_REQUIRED_HEADERS)
    if "x-acs-security-token" in headers:
        required.add("x-acs-security-token")
    if not required <= set(signed):
        missing = ", ".join(sorted(required - set(signed)))
        raise ApiError(
            "IncompleteSignature",
            f"The request signature does not conform to Aliyun standards: sign {missing}.",
        )
    key = _find_key(parts["Credential"])
    secret = _secret(key)
    payload_hash = request.body_sha256
    if not signature.same(headers.get("x-acs-content-sha256", [""])[0], payload_hash):
        raise ApiError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign "
            "is: the x-acs-content-sha256 header does not match the request body",
        )
    query = parse_qsl(request.query_string, keep_blank_values=True)
    canonical = signature.v3_canonical_request(
        request.method, request.path, query, headers, signed, payload_hash
    )
    string_to_sign = signature.v3_string_to_sign(canonical)
    if not signature.same(signature.v3_signature(string_to_sign, secret), parts["Signature"]):
        raise signature_mismatch(string_to_sign)
    return key, headers["x-acs-date"][0], headers["x-acs-signature-nonce"][0]


def _check_key_usable(key: KeyRecord) -> None:
    if not key.is_active or not (key.programmatic_access or key.user_kind == "root"):
        raise ApiError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")


def _check_timestamp(value: str) -> None:
    if not value:
        raise ApiError("MissingTimestamp", "Timestamp is mandatory for this action.")
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ApiError(
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ) from exc
    if abs(timezone.now() - moment) > SKEW:
        raise ApiError(
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired (more than 15 minutes from the "
            "server time).",
        )


def _remember_nonce(access_key_id: str, nonce: str) -> None:
    if not nonce:
        raise ApiError("MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
    if len(nonce) > 128:
        raise ApiError("InvalidSignatureNonce", "Specified signature nonce is too long.")
    valid_until = timezone.now() + timedelta(seconds=NONCE_TTL)
    if not use_once(NONCE, access_key_id, nonce, valid_until=valid_until):
        raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.")
