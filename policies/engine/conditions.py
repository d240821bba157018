"""Condition operators of the policy language (reference §7.2) with write-time validation.

Semantics: several values for one key are ORed, several keys under one operator are ANDed,
several operators are ANDed. A key missing from the request makes a positive operator false
and a negated one (`...Not...`) true, as in AWS IAM; the `IfExists` suffix makes any operator
true when the key is missing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from policies.engine.errors import PolicyError
from policies.engine.wildcard import compile_pattern

# Global keys every request carries (lower-cased; keys are case-insensitive).
GLOBAL_KEYS = {
    "acs:currenttime",
    "acs:sourceip",
    "acs:securetransport",
    "acs:mfapresent",
    "acs:principalarn",
    "acs:principalaccount",
    "acs:sourcevpc",
    "acs:accessid",
    "acs:service",
}
GLOBAL_KEY_PREFIXES = ("acs:resourcetag/", "acs:requesttag/")
KEY_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_./:-]+$")

ValueTest = Callable[[list[Any]], bool]


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: tuple[Any, ...]
    negated: bool
    if_exists: bool
    test: ValueTest

    def holds(self, context: Mapping[str, Any]) -> bool:
        raw = context.get(self.key)
        if raw is None:
            return self.if_exists or self.negated
        request_values = raw if isinstance(raw, list | tuple) else [raw]
        try:
            return self.test(list(request_values))
        except (TypeError, ValueError, InvalidOperation):
            # A request value of the wrong type never satisfies a condition.
            return False


def _as_date(value: Any) -> float:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d{9,11}", text):
            return float(text)
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _as_number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError("not finite")
    return number


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "false"}:
        return text == "true"
    raise ValueError(f"{value!r} is not true or false")


def _as_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    return ipaddress.ip_address(str(value).strip())


def _as_network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(str(value).strip(), strict=False)


def _any_pair(request: list[Any], policy: tuple[Any, ...], convert, compare) -> bool:
    return any(compare(convert(r), p) for r in request for p in policy)


def _string_test(kind: str, values: tuple[Any, ...]) -> ValueTest:
    if kind == "equals":
        wanted = frozenset(values)
        return lambda req: any(str(r) in wanted for r in req)
    if kind == "equalsignorecase":
        folded = frozenset(v.casefold() for v in values)
        return lambda req: any(str(r).casefold() in folded for r in req)
    matchers = [compile_pattern(v) for v in values]
    return lambda req: any(m(str(r)) for r in req for m in matchers)


_COMPARE = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a == b,  # negated by the caller
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}

STRING_OPERATORS = {
    "StringEquals": ("equals", False),
    "StringNotEquals": ("equals", True),
    "StringEqualsIgnoreCase": ("equalsignorecase", False),
    "StringNotEqualsIgnoreCase": ("equalsignorecase", True),
    "StringLike": ("like", False),
    "StringNotLike": ("like", True),
}
NUMERIC_OPERATORS = {f"Numeric{suffix}" for suffix in _COMPARE}
DATE_OPERATORS = {f"Date{suffix}" for suffix in _COMPARE}
OPERATORS = (
    set(STRING_OPERATORS)
    | NUMERIC_OPERATORS
    | DATE_OPERATORS
    | {"Bool"}
    | {"IpAddress", "NotIpAddress"}
)


def _build_test(operator: str, values: tuple[Any, ...]) -> tuple[ValueTest, bool]:
    """Return (test over request values, negated) for a validated operator."""
    if operator in STRING_OPERATORS:
        kind, negated = STRING_OPERATORS[operator]
        test = _string_test(kind, values)
    elif operator == "Bool":
        wanted = values
        return (lambda req: _any_pair(req, wanted, _as_bool, lambda a, b: a == b)), False
    elif operator in {"IpAddress", "NotIpAddress"}:
        negated = operator == "NotIpAddress"
        networks = values
        test = lambda req: _any_pair(req, networks, _as_ip, lambda a, n: a in n)  # noqa: E731
    else:
        family = "Numeric" if operator.startswith("Numeric") else "Date"
        suffix = operator.removeprefix(family)
        convert = _as_number if family == "Numeric" else _as_date
        compare = _COMPARE[suffix]
        negated = suffix == "NotEquals"
        test = lambda req: _any_pair(req, values, convert, compare)  # noqa: E731
    if negated:
        return (lambda req: not test(req)), True
    return test, False


def _parse_value(operator: str, value: Any, path: str) -> Any:
    if isinstance(value, dict | list) or value is None:
        raise PolicyError("a condition value must be a string, number or boolean", path)
    try:
        if operator in STRING_OPERATORS:
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        if operator == "Bool":
            return _as_bool(value)
        if operator in {"IpAddress", "NotIpAddress"}:
            return _as_network(value)
        if operator in NUMERIC_OPERATORS:
            return _as_number(value)
        return _as_date(value)
    except (ValueError, InvalidOperation) as exc:
        kinds = {
            "Bool": "true or false",
            "IpAddress": "an IP address or CIDR block",
            "NotIpAddress": "an IP address or CIDR block",
        }
        expected = kinds.get(operator) or (
            "a number" if operator in NUMERIC_OPERATORS else "an ISO 8601 date-time"
        )
        raise PolicyError(f"{value!r} is not {expected} (operator {operator})", path) from exc


def _check_key(key: str, path: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise PolicyError(f"condition key {key!r} is not of the form <service>:<name>", path)
    lowered = key.lower()
    known = lowered in GLOBAL_KEYS or lowered.startswith(GLOBAL_KEY_PREFIXES)
    if lowered.startswith("acs:") and not known:
        raise PolicyError(f"unknown global condition key {key!r}", path)
    return lowered


def parse_conditions(block: Any, path: str) -> tuple[Condition, ...]:
    """Validate a statement's Condition block into Condition objects."""
    if not isinstance(block, dict) or not block:
        raise PolicyError("Condition must be a non-empty object of operators", path)
    conditions: list[Condition] = []
    for raw_operator, keys in block.items():
        op_path = f"{path}.{raw_operator}"
        operator = raw_operator.removesuffix("IfExists")
        if_exists = operator != raw_operator
        if operator not in OPERATORS:
            raise PolicyError(f"unknown condition operator {raw_operator!r}", op_path)
        if not isinstance(keys, dict) or not keys:
            raise PolicyError("an operator must map condition keys to values", op_path)
        for key, raw_values in keys.items():
            key_path = f"{op_path}.{key}"
            lowered = _check_key(key, key_path)
            items = raw_values if isinstance(raw_values, list) else [raw_values]
            if not items:
                raise PolicyError("a condition needs at least one value", key_path)
            values = tuple(_parse_value(operator, v, key_path) for v in items)
            test, negated = _build_test(operator, values)
            conditions.append(Condition(operator, lowered, values, negated, if_exists, test))
    return tuple(conditions)


def all_hold(conditions: Iterable[Condition], context: Mapping[str, Any]) -> bool:
    return all(condition.holds(context) for condition in conditions)
