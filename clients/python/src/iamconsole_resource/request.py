"""A received request, as the middleware sees it: framework-neutral."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

FORM = "application/x-www-form-urlencoded"
# Headers iamconsole reads besides those a V3 signature names: the rest (cookies, proxies'
# additions…) stay with the service.
ALWAYS_FORWARDED = frozenset({"host", "user-agent", "authorization"})


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    path: str  # percent-decoded, as the client named it (mount point included)
    query_string: str  # raw, as received: V1 signs its parameters
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
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
        source_ip: str | None,
        secure: bool,
    ) -> IncomingRequest:
        """`headers` as a mapping, or as (name, value) pairs in which a repeated name's values
        are joined with "," (as WSGI servers do)."""
        lowered: dict[str, str] = {}
        if isinstance(headers, Mapping):
            lowered = {name.lower(): value for name, value in headers.items()}
        else:
            for name, value in headers:
                key = name.lower()
                lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        params = dict(parse_qsl(query_string, keep_blank_values=True))
        if _is_form(lowered):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return cls(
            method.upper(), path or "/", query_string, lowered, body, source_ip, secure, params
        )

    @property
    def is_v3(self) -> bool:
        """Signed with ACS3-HMAC-SHA256 in the Authorization header (else V1, in the query)."""
        return self.headers.get("authorization", "").startswith("ACS3-")

    @property
    def form_body(self) -> str:
        if _is_form(self.headers):
            return self.body.decode("utf-8", "replace")
        return ""

    @property
    def api_action(self) -> str:
        """The RPC action the caller named: x-acs-action header, else the Action parameter."""
        return self.headers.get("x-acs-action") or self.params.get("Action", "")

    def signature_headers(self) -> dict[str, str]:
        """The headers iamconsole needs to verify the signature: host, user-agent,
        authorization, every x-acs-* header and every header a V3 signature names."""
        wanted = set(ALWAYS_FORWARDED)
        if self.is_v3:
            for item in self.headers["authorization"].partition(" ")[2].split(","):
                name, _, value = item.strip().partition("=")
                if name == "SignedHeaders":
                    wanted.update(h.strip().lower() for h in value.split(";") if h.strip())
        return {
            name: value
            for name, value in self.headers.items()
            if name in wanted or name.startswith("x-acs-")
        }


def _is_form(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").lower().startswith(FORM)
