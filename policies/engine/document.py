"""Parse and validate policy documents (reference §7.1) into frozen, compiled statements."""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from policies.engine.conditions import Condition, parse_conditions
from policies.engine.errors import PolicyError
from policies.engine.wildcard import Matcher, compile_pattern

MAX_DEPTH = 12
ACTION_RE = re.compile(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_.\-/]+$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Anywhere in a document: NUL can't be stored in PostgreSQL text, a lone surrogate can't be
# encoded as UTF-8 (both can be written as JSON escapes).
UNSTORABLE_RE = re.compile(r"[\x00\ud800-\udfff]")
MAX_NUMBER_CHARS = 64


class PolicyKind(enum.Enum):
    IDENTITY = "identity"  # attached to users, groups, roles; session policies
    TRUST = "trust"  # a role's trust policy: Principal instead of Resource


@dataclass(frozen=True)
class Statement:
    index: int
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]
    principal: dict[str, tuple[str, ...]] | None = None
    sid: str = ""
    action_matchers: tuple[Matcher, ...] = field(default=(), repr=False, compare=False)
    resource_matchers: tuple[Matcher, ...] = field(default=(), repr=False, compare=False)

    @property
    def is_deny(self) -> bool:
        return self.effect == "Deny"

    def matches_action(self, action_lower: str) -> bool:
        hit = any(m(action_lower) for m in self.action_matchers)
        return hit != self.not_action

    def matches_resource(self, resource: str) -> bool:
        if not self.resources:
            return True  # trust policies carry no Resource
        hit = any(m(resource) for m in self.resource_matchers)
        return hit != self.not_resource

    def action_services(self) -> set[str] | None:
        """Lower-cased services this statement's actions can match; None when any."""
        if self.not_action:
            return None
        services: set[str] = set()
        for pattern in self.actions:
            service = pattern.split(":", 1)[0].lower() if ":" in pattern else "*"
            if "*" in service or "?" in service:
                return None
            services.add(service)
        return services


@dataclass(frozen=True)
class ParsedPolicy:
    statements: tuple[Statement, ...]
    canonical: str  # compact JSON of the document as given

    def to_pretty_json(self) -> str:
        return json.dumps(json.loads(self.canonical), indent=2, ensure_ascii=False)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise PolicyError(f'duplicate key "{key}" in one JSON object')
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise PolicyError(f"{name} is not allowed in a policy document")


def _parse_int(text: str) -> int:
    # Python refuses to convert more than 4,300 digits (a ValueError of its own); refuse sooner.
    if len(text) > MAX_NUMBER_CHARS:
        raise PolicyError(f"a number has more than {MAX_NUMBER_CHARS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    number = float(text)
    if len(text) > MAX_NUMBER_CHARS or not math.isfinite(number):
        raise PolicyError(f"the number {text[:20]}… is too long or too large")
    return number


def _check_strings(value: Any) -> None:
    """Every key and string of the document is storable text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE_RE.search(item):
                raise PolicyError("a string holds NUL or a lone surrogate")
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level + 1])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level + 1])
    return level


def _load_json(text: str, max_chars: int) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise PolicyError("the policy document is empty")
    if len(text) > max_chars * 4:
        raise PolicyError(f"the policy document is too long ({len(text)} characters)")
    try:
        document = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise PolicyError("the policy document is nested too deeply") from exc
    if _depth(document) > MAX_DEPTH:
        raise PolicyError("the policy document is nested too deeply")
    return document


def _string_list(value: Any, path: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PolicyError("must not be an empty list", path)
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]" if isinstance(value, list) else path
        if not isinstance(item, str) or not item:
            raise PolicyError("must be a non-empty string", item_path)
        if CONTROL_RE.search(item):
            raise PolicyError("must not contain control characters", item_path)
    return items


def _parse_actions(raw: dict[str, Any], path: str) -> tuple[tuple[str, ...], bool]:
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError("a statement needs exactly one of Action or NotAction", path)
    key = "Action" if "Action" in raw else "NotAction"
    actions = _string_list(raw[key], f"{path}.{key}")
    for i, action in enumerate(actions):
        if action != "*" and not ACTION_RE.match(action):
            raise PolicyError(
                f"{action!r} is not of the form <service>:<action> or *", f"{path}.{key}[{i}]"
            )
    return tuple(actions), key == "NotAction"


def _parse_resources(raw: dict[str, Any], path: str) -> tuple[tuple[str, ...], bool]:
    if ("Resource" in raw) == ("NotResource" in raw):
        raise PolicyError("a statement needs exactly one of Resource or NotResource", path)
    key = "Resource" if "Resource" in raw else "NotResource"
    resources = _string_list(raw[key], f"{path}.{key}")
    for i, resource in enumerate(resources):
        if resource != "*" and not (resource.startswith("acs:") and resource.count(":") >= 4):
            raise PolicyError(
                f"{resource!r} is not * or an ARN of the form acs:<service>:<region>:"
                "<account>:<resource>",
                f"{path}.{key}[{i}]",
            )
    return tuple(resources), key == "NotResource"


PRINCIPAL_TYPES = ("RAM", "Service", "Federated")


def _parse_principal(value: Any, path: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise PolicyError("Principal must be an object of RAM, Service or Federated", path)
    parsed: dict[str, tuple[str, ...]] = {}
    for kind, entries in value.items():
        if kind not in PRINCIPAL_TYPES:
            raise PolicyError(f"unknown principal type {kind!r}", path)
        parsed[kind] = tuple(_string_list(entries, f"{path}.{kind}"))
    return parsed


STATEMENT_KEYS = {
    PolicyKind.IDENTITY: {
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Sid",
    },
    PolicyKind.TRUST: {"Effect", "Action", "NotAction", "Principal", "Condition", "Sid"},
}


def _parse_statement(raw: Any, index: int, kind: PolicyKind) -> Statement:
    path = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise PolicyError("a statement must be a JSON object", path)
    unknown = sorted(set(raw) - STATEMENT_KEYS[kind])
    if unknown:
        raise PolicyError(f"unknown element {unknown[0]!r}", path)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'Effect must be "Allow" or "Deny", not {effect!r}', f"{path}.Effect")
    actions, not_action = _parse_actions(raw, path)
    principal = None
    if kind is PolicyKind.TRUST:
        resources: tuple[str, ...] = ()
        not_resource = False
        if "Principal" not in raw:
            raise PolicyError("a trust policy statement needs a Principal", path)
        principal = _parse_principal(raw["Principal"], f"{path}.Principal")
    else:
        resources, not_resource = _parse_resources(raw, path)
    conditions = (
        parse_conditions(raw["Condition"], f"{path}.Condition") if "Condition" in raw else ()
    )
    sid = raw.get("Sid", "")
    if not isinstance(sid, str):
        raise PolicyError("Sid must be a string", f"{path}.Sid")
    return Statement(
        index=index,
        effect=effect,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditions=conditions,
        principal=principal,
        sid=sid,
        action_matchers=tuple(compile_pattern(a, ignore_case=True) for a in actions),
        resource_matchers=tuple(compile_pattern(pattern) for pattern in resources),
    )


def parse_policy(
    text: str, *, max_chars: int = 6144, kind: PolicyKind = PolicyKind.IDENTITY
) -> ParsedPolicy:
    """Validate `text` as a policy document; raise PolicyError naming what is wrong.

    The size limit counts the document without insignificant whitespace.
    """
    document = _load_json(text, max_chars)
    if not isinstance(document, dict):
        raise PolicyError("the policy document must be a JSON object")
    unknown = sorted(set(document) - {"Version", "Statement"})
    if unknown:
        raise PolicyError(f"unknown top-level element {unknown[0]!r}")
    if document.get("Version") != "1":
        raise PolicyError('Version must be the string "1"', "Version")
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise PolicyError("Statement must be a non-empty list of statements", "Statement")
    canonical = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    if len(canonical) > max_chars:
        raise PolicyError(
            f"the policy document has {len(canonical)} characters without whitespace; "
            f"the limit is {max_chars}"
        )
    parsed = tuple(_parse_statement(raw, i, kind) for i, raw in enumerate(statements))
    _check_strings(document)  # after the statements, whose own checks say more precisely
    return ParsedPolicy(statements=parsed, canonical=canonical)
