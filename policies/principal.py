"""The one shape every caller is resolved to, console session or signed API request."""

from __future__ import annotations

import ipaddress
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from policies.engine import ParsedPolicy


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from; carried into every audit event."""

    source_ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    secure_transport: bool = False


@dataclass(frozen=True)
class Principal:
    account_id: int
    account_uid: str
    kind: str  # "root" | "user" | "role-session" | "service"
    arn: str
    name: str
    user_pk: int | None
    authz_version: int
    mfa_present: bool = False
    credential: str = ""  # console session digest, AccessKeyId, or STS key id
    meta: RequestMeta = field(default_factory=RequestMeta)
    session_policy: ParsedPolicy | None = None
    role_pk: int | None = None  # for role sessions: the assumed role
    source_arn: str = ""  # for role sessions: who assumed the role

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    def context(self) -> dict[str, Any]:
        """The global condition keys of this request (lower-cased); do not mutate."""
        return self._context

    @cached_property
    def _context(self) -> dict[str, Any]:
        # Built once per request (a Principal lives for one request): time and source IP
        # are those of the request.
        from django.utils import timezone

        values: dict[str, Any] = {
            "acs:currenttime": timezone.now(),
            "acs:securetransport": self.meta.secure_transport,
            "acs:mfapresent": self.mfa_present,
            "acs:principalarn": self.arn,
            "acs:principalaccount": self.account_uid,
        }
        if self.meta.source_ip:
            with suppress(ValueError):
                values["acs:sourceip"] = ipaddress.ip_address(self.meta.source_ip)
        return values
