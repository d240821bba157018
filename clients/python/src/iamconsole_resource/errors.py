"""Alibaba-shaped error bodies: RequestId, HostId, Code, Message, Recommend."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

HOST_ID = "resource-service"
CONTENT_TYPE = "application/json;charset=utf-8"


@dataclass(frozen=True)
class ErrorReply:
    """What the service answers its caller: an HTTP status and an Alibaba JSON error."""

    status: int
    code: str
    message: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    host_id: str = HOST_ID

    def body(self) -> dict[str, Any]:
        return {
            "RequestId": self.request_id,
            "HostId": self.host_id,
            "Code": self.code,
            "Message": self.message,
            "Recommend": "",
        }

    def encoded(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False).encode()

    @property
    def status_line(self) -> str:
        """WSGI's status, e.g. "403 Forbidden"."""
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Error"
        return f"{self.status} {phrase}"


def unavailable(detail: str = "") -> ErrorReply:
    message = "The request can't be verified right now; try again later."
    return ErrorReply(503, "ServiceUnavailable", message + (f" ({detail})" if detail else ""))


def not_found(action: str) -> ErrorReply:
    return ErrorReply(
        404, "InvalidApi.NotFound", f"Specified api {action!r} is not found, check the Action."
    )


def bad_request(code: str, message: str) -> ErrorReply:
    return ErrorReply(400, code, message)


def missing_parameter(name: str) -> ErrorReply:
    return bad_request(
        "MissingParameter",
        f"The input parameter {name!r} that is mandatory for processing this request is not "
        "supplied.",
    )


def too_large(limit: int) -> ErrorReply:
    return ErrorReply(
        413, "InvalidParameter.RequestSize", f"The request body is larger than {limit} bytes."
    )
