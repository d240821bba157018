"""The only place that decides: authorize(principal, action, resource, context).

Explicit Deny > Allow > implicit deny; a user's policies ∪ its groups' policies; the root of
an account may do anything in its own account and nothing elsewhere. Compiled policy sets are
cached per process keyed by the account's authz_version, read once per request, so a change
bites on the very next request on every web node.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any

from policies.engine import CompiledPolicySet, Decision, Effect, SourcedStatement
from policies.principal import Principal

_SET_CACHE_LIMIT = 2048
_set_cache: OrderedDict[tuple[str, int, int], CompiledPolicySet] = OrderedDict()
_set_cache_lock = Lock()


@dataclass(frozen=True)
class StatementSource:
    """Where a statement comes from, as shown on effective-permission pages."""

    policy_name: str
    policy_type: str
    version_id: str
    via: str  # "" for a direct attachment, else "group/<name>"

    def describe(self) -> str:
        where = f"via {self.via}" if self.via else "attached directly"
        return f"{self.policy_type} policy {self.policy_name} ({self.version_id}), {where}"


class ImplicitRootDecision:
    """Marker source for decisions made by the root rule, not by a statement."""


ROOT_ALLOW = Decision(Effect.ALLOW)


def resource_account(resource: str) -> str | None:
    parts = resource.split(":", 4)
    return parts[3] if len(parts) == 5 else None


def policy_set_for(principal: Principal) -> CompiledPolicySet:
    """The compiled statements that apply to `principal` (cached per authz_version)."""
    owner = principal.role_pk if principal.kind == "role-session" else principal.user_pk
    key = (principal.kind, owner or 0, principal.authz_version)
    with _set_cache_lock:
        found = _set_cache.get(key)
        if found is not None:
            _set_cache.move_to_end(key)
            return found
    from policies.selectors import statements_for_role, statements_for_user

    statements = (
        statements_for_role(principal.role_pk)
        if principal.kind == "role-session"
        else statements_for_user(principal.user_pk)
    )
    compiled = CompiledPolicySet(SourcedStatement(st, source) for st, source in statements)
    with _set_cache_lock:
        _set_cache[key] = compiled
        while len(_set_cache) > _SET_CACHE_LIMIT:
            _set_cache.popitem(last=False)
    return compiled


def authorize(
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide whether `principal` may perform `action` on `resource`."""
    if principal.is_root:
        if action.lower() == "sts:assumerole":
            return Decision(Effect.IMPLICIT_DENY)  # root never assumes roles
        owner = resource_account(resource)
        if owner in (principal.account_uid, "system") or resource == "*":
            return ROOT_ALLOW
        return Decision(Effect.IMPLICIT_DENY)
    if principal.kind not in ("user", "role-session"):
        return Decision(Effect.IMPLICIT_DENY)
    # Nothing of another account, except asking to assume its role (whose trust policy then
    # has the second word).
    foreign = resource_account(resource) not in (principal.account_uid, "system", "*", None)
    if foreign and action.lower() != "sts:assumerole":
        return Decision(Effect.IMPLICIT_DENY)
    request_context = principal.context()
    if context:
        request_context = {**request_context, **{k.lower(): v for k, v in context.items()}}
    decision = policy_set_for(principal).decide(action, resource, request_context)
    if principal.session_policy is None:
        return decision
    # A session policy only narrows: role policies ∩ session policy; any explicit Deny wins.
    session = _session_set(principal.session_policy).decide(action, resource, request_context)
    for outcome in (decision, session):
        if outcome.effect is Effect.EXPLICIT_DENY:
            return outcome
    for outcome in (decision, session):
        if not outcome.allowed:
            return outcome
    return decision


def _session_set(policy: Any) -> CompiledPolicySet:
    source = StatementSource("session policy", "Session", "", "")
    return CompiledPolicySet(SourcedStatement(st, source) for st in policy.statements)


def clear_cache() -> None:
    with _set_cache_lock:
        _set_cache.clear()
