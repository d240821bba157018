"""AssumeRole as the platform service, through the official STS SDK pointed at iamconsole."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_sts20150401.models import AssumeRoleRequest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config

from examples.functions.credentials import RoleCredentials


class AssumeRoleFailed(Exception):
    """STS refused (with its error code and message) or could not be reached."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ServiceKey:
    """The platform's own credentials (an `LTAS…` key from `manage.py createservice`)."""

    endpoint: str  # IAM_ENDPOINT, e.g. http://127.0.0.1:8000
    access_key_id: str
    access_key_secret: str


def sts_client(key: ServiceKey) -> StsClient:
    parts = urlsplit(key.endpoint if "://" in key.endpoint else f"http://{key.endpoint}")
    return StsClient(
        Config(
            access_key_id=key.access_key_id,
            access_key_secret=key.access_key_secret,
            endpoint=parts.netloc,
            protocol=parts.scheme,
            connect_timeout=5000,
            read_timeout=10000,
        )
    )


def parse_expiration(text: str) -> float:
    """STS's `Expiration` (`YYYY-MM-DDThh:mm:ssZ`) as epoch seconds."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def _error_of(exc: AlibabaCloudException) -> tuple[str, str]:
    """STS's own Code and Message (the SDK's message adds the status and request id)."""
    body = exc.data if isinstance(exc.data, dict) else {}
    code = body.get("Code") or exc.code or "Error"
    message = body.get("Message") or exc.message or str(exc)
    status = f"HTTP {exc.status_code}, " if exc.status_code else ""
    request_id = body.get("RequestId") or exc.request_id
    return code, f"{message} ({status}request id {request_id})" if request_id else message


def role_assumer(
    key: ServiceKey, role_arn: str, session_name: str, duration: int
) -> Callable[[], RoleCredentials]:
    """A function that assumes `role_arn` afresh on each call."""
    client = sts_client(key)
    request = AssumeRoleRequest(
        role_arn=role_arn, role_session_name=session_name, duration_seconds=duration
    )

    def assume() -> RoleCredentials:
        asked_at = time.time()
        try:
            body = client.assume_role(request).body
        except AlibabaCloudException as exc:
            raise AssumeRoleFailed(*_error_of(exc)) from exc
        except Exception as exc:  # connection refused, timeout, unreadable answer
            raise AssumeRoleFailed("ServiceUnavailable", f"{key.endpoint}: {exc}") from exc
        creds = body.credentials
        # Trust neither clock alone: expire at whichever comes first, STS's word or ours.
        expires_at = min(parse_expiration(creds.expiration), asked_at + duration)
        return RoleCredentials(
            access_key_id=creds.access_key_id,
            access_key_secret=creds.access_key_secret,
            security_token=creds.security_token,
            expires_at=expires_at,
            duration=duration,
        )

    return assume
