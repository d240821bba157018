"""Alibaba-shaped error bodies: RequestId, HostId, Code, Message, Recommend."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

HOST_ID = "resource-service"


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


def unavailable(detail: str = "") -> ErrorReply:
    message = "The request can't be verified right now; try again later."
    return ErrorReply(503, "ServiceUnavailable", message + (f" ({detail})" if detail else ""))


def not_found(action: str) -> ErrorReply:
    return ErrorReply(
        404, "InvalidApi.NotFound", f"Specified api {action!r} is not found, check the Action."
    )


def bad_request(code: str, message: str) -> ErrorReply:
    return ErrorReply(400, code, message)
