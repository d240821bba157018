"""Typed access to an API call's parameters, with Alibaba's error codes for bad values."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

from openapi.errors import invalid, missing


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
        except json.JSONDecodeError as exc:
            raise invalid(name, "Use a JSON list.") from exc
        if not isinstance(parsed, list):
            raise invalid(name, "Use a JSON list.")
        return parsed


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
