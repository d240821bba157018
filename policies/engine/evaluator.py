"""Decide requests against the statements of one principal.

Statements are indexed by the service prefix of their actions; the statements matching a
given action are memoised per action, so a decision costs a dictionary lookup plus the
resource and condition checks of the few candidates, flat in the number of statements.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.engine.conditions import all_hold
from policies.engine.document import Statement

MEMO_LIMIT = 4096


class Effect(enum.Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class SourcedStatement:
    """A statement with where it came from (policy, version, direct or via a group)."""

    statement: Statement
    source: Any


@dataclass(frozen=True)
class Decision:
    effect: Effect
    deciding: SourcedStatement | None = None

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


IMPLICIT_DENY = Decision(Effect.IMPLICIT_DENY)


class CompiledPolicySet:
    """The statements that apply to one principal, indexed for fast decisions."""

    def __init__(self, entries: Iterable[SourcedStatement]) -> None:
        self.entries = tuple(entries)
        # Positions of the statements, per service prefix and for any service.
        self._by_service: dict[str, list[int]] = {}
        self._any_service: list[int] = []
        for position, entry in enumerate(self.entries):
            services = entry.statement.action_services()
            if services is None:
                self._any_service.append(position)
            else:
                for service in services:
                    self._by_service.setdefault(service, []).append(position)
        self._memo: dict[str, tuple[tuple[SourcedStatement, ...], ...]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def _candidates(self, action_lower: str) -> tuple[tuple[SourcedStatement, ...], ...]:
        found = self._memo.get(action_lower)
        if found is not None:
            return found
        service = action_lower.split(":", 1)[0]
        positions = sorted(set(self._by_service.get(service, [])).union(self._any_service))
        pool = [self.entries[p] for p in positions]
        matching = [e for e in pool if e.statement.matches_action(action_lower)]
        denies = tuple(e for e in matching if e.statement.is_deny)
        allows = tuple(e for e in matching if not e.statement.is_deny)
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        self._memo[action_lower] = found = (denies, allows)
        return found

    def decide(self, action: str, resource: str, context: Mapping[str, Any]) -> Decision:
        """Explicit Deny beats Allow; with neither, the request is implicitly denied."""
        denies, allows = self._candidates(action.lower())
        for entry in denies:
            statement = entry.statement
            if statement.matches_resource(resource) and all_hold(statement.conditions, context):
                return Decision(Effect.EXPLICIT_DENY, entry)
        for entry in allows:
            statement = entry.statement
            if statement.matches_resource(resource) and all_hold(statement.conditions, context):
                return Decision(Effect.ALLOW, entry)
        return IMPLICIT_DENY


def reference_decide(
    entries: Iterable[SourcedStatement], action: str, resource: str, context: Mapping[str, Any]
) -> Effect:
    """Unindexed, obviously-correct evaluation used to test CompiledPolicySet."""
    from policies.engine.wildcard import reference_match

    allowed = False
    for entry in entries:
        st = entry.statement
        action_hit = any(reference_match(p.lower(), action.lower()) for p in st.actions)
        if action_hit == st.not_action:
            continue
        if st.resources:
            resource_hit = any(reference_match(p, resource) for p in st.resources)
            if resource_hit == st.not_resource:
                continue
        if not all(c.holds(context) for c in st.conditions):
            continue
        if st.is_deny:
            return Effect.EXPLICIT_DENY
        allowed = True
    return Effect.ALLOW if allowed else Effect.IMPLICIT_DENY
