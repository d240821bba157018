"""Typed access to an API call's parameters, with Alibaba's error codes for bad values."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC
from typing import Any

from openapi.errors import ApiError, invalid, missing

# C0 controls but tab, line feed and carriage return (pretty-printed documents hold those), DEL,
# and lone surrogates: PostgreSQL can't store NUL in text and UTF-8 can't encode a surrogate, so
# such a value would otherwise reach the database and fail there.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
SIGNED_HEADERS = ("authorization", "x-acs-")
JSON_LIST_DEPTH = 8


def refuse_unsafe_characters(params: Mapping[str, str], headers: Mapping[str, str]) -> None:
    """Refuse a request whose parameters or signing headers hold a control character or a lone
    surrogate (`InvalidParameter.<Name>`), before anything looks them up or stores them."""
    signing = {k: v for k, v in headers.items() if k.lower().startswith(SIGNED_HEADERS)}
    for name, value in (*params.items(), *signing.items()):
        if UNSAFE_CHARACTERS.search(name):
            raise ApiError("InvalidParameter", "A parameter name holds a control character.")
        if UNSAFE_CHARACTERS.search(value):
            raise invalid(name, "It must not contain control characters or lone surrogates.")


class Params:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.values.get(name)
        if value is None or (required and value == ""):
            if required:
                raise missing(name)
            return default
        return value

    def optional(self, name: str) -> str | None:
        return self.values.get(name)

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        """SDKs send Python's str(bool): True/False; any case is accepted."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise invalid(name, "Use true or false.")
        return lowered == "true"

    def number(self, name: str, *, default: int | None = None, low: int, high: int) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError as exc:
            raise invalid(name, "Use a whole number.") from exc
        if not low <= number <= high:
            raise invalid(name, f"It must be between {low} and {high}.")
        return number

    def json_list(self, name: str) -> list[Any]:
        value = self.values.get(name)
        if not value:
            return []
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError) as exc:  # ValueError: also a number too long
            raise invalid(name, "Use a JSON list.") from exc
        if not isinstance(parsed, list):
            raise invalid(name, "Use a JSON list.")
        for depth, text in _strings(parsed):
            if depth > JSON_LIST_DEPTH:
                raise invalid(name, "The JSON list is nested too deeply.")
            if UNSAFE_CHARACTERS.search(text):
                raise invalid(name, "It must not contain control characters or lone surrogates.")
        return parsed


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    """(depth, text) of every key and string in a parsed JSON value (iterative: no recursion
    limit to hit), with (depth, "") for containers so depth is seen even without strings."""
    stack: list[tuple[int, Any]] = [(0, value)]
    while stack:
        depth, item = stack.pop()
        if isinstance(item, str):
            yield depth, item
        elif isinstance(item, dict):
            yield depth, ""
            stack.extend((depth + 1, k) for k in item)
            stack.extend((depth + 1, v) for v in item.values())
        elif isinstance(item, list):
            yield depth, ""
            stack.extend((depth + 1, v) for v in item)


def encode_marker(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_marker(marker: str) -> str:
    try:
        value = base64.b64decode(marker.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid("Marker", "Pass the Marker of the previous page unchanged.") from exc
    if not value:
        raise invalid("Marker", "Pass the Marker of the previous page unchanged.")
    return value


def page(
    params: Params,
    queryset: Any,
    field: str,
    max_default: int = 100,
    max_limit: int = 1000,
    key: Callable[[Any], str] | None = None,
) -> tuple[list[Any], dict[str, Any]]:
    """Keyset pagination on `field`: (items, {"IsTruncated", ["Marker"]})."""
    limit = params.number("MaxItems", default=max_default, low=1, high=max_limit) or max_default
    marker = params.text("Marker")
    if marker:
        queryset = queryset.filter(**{f"{field}__gt": decode_marker(marker)})
    items = list(queryset.order_by(field)[: limit + 1])
    truncated = len(items) > limit
    items = items[:limit]
    info: dict[str, Any] = {"IsTruncated": truncated}
    if truncated:
        last = key(items[-1]) if key else getattr(items[-1], field)
        info["Marker"] = encode_marker(str(last))
    return items, info


def iso(moment: Any) -> str | None:
    """Alibaba's timestamp form: YYYY-MM-DDThh:mm:ssZ (UTC, no fraction)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
