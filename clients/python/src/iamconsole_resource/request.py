"""A received request, as the middleware sees it: framework-neutral."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]  # lower-case names; "host" as the client sent it
    body: bytes
    source_ip: str | None
    secure: bool
    params: dict[str, str] = field(default_factory=dict)  # query ∪ form body

    @classmethod
    def build(
        cls,
        *,
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
        source_ip: str | None,
        secure: bool,
    ) -> IncomingRequest:
        lowered = {name.lower(): value for name, value in headers.items()}
        params = dict(parse_qsl(query_string, keep_blank_values=True))
        if lowered.get("content-type", "").startswith(FORM):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return cls(
            method.upper(), path or "/", query_string, lowered, body, source_ip, secure, params
        )

    @property
    def form_body(self) -> str:
        if self.headers.get("content-type", "").startswith(FORM):
            return self.body.decode("utf-8", "replace")
        return ""

    @property
    def api_action(self) -> str:
        """The RPC action the caller named: x-acs-action header, else the Action parameter."""
        return self.headers.get("x-acs-action") or self.params.get("Action", "")
