"""Trust policies: who may assume a role (reference §7.4), decided by the policy engine.

A statement trusts a caller when its Principal names it: `acs:ram::<uid>:root` trusts every
RAM identity of that account (subject to its own policies), `…:user/<name>` one user,
`…:role/<name>` sessions of that role; `Service` entries name registered services. Its
Action must match sts:AssumeRole and its conditions (e.g. sts:ExternalId) must hold.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from policies.engine import Effect, ParsedPolicy, PolicyError, PolicyKind, parse_policy
from policies.engine.conditions import all_hold
from policies.principal import Principal

TRUST_POLICY_CHARS = 4096


@lru_cache(maxsize=1024)
def parse_trust_policy(text: str) -> ParsedPolicy:
    """Parsed once per distinct document (the result is immutable)."""
    return parse_policy(text, max_chars=TRUST_POLICY_CHARS, kind=PolicyKind.TRUST)


def _names_caller(entries: dict[str, tuple[str, ...]], caller: Principal) -> bool:
    ram = entries.get("RAM", ())
    if caller.kind in ("user", "role-session"):
        wanted = {f"acs:ram::{caller.account_uid}:root"}
        if caller.kind == "user":
            wanted.add(f"acs:ram::{caller.account_uid}:user/{caller.name}")
        else:
            role_name = caller.arn.split(":role/", 1)[1].split("/", 1)[0]
            wanted.add(f"acs:ram::{caller.account_uid}:role/{role_name}")
        return any(entry in wanted for entry in ram)
    if caller.kind == "service":
        return caller.name in entries.get("Service", ())
    if caller.kind == "federated":  # an identity provider of the role's account
        return caller.arn in entries.get("Federated", ())
    return False


def trust_decision(trust: ParsedPolicy, caller: Principal, context: dict[str, Any]) -> Effect:
    """Explicit Deny > Allow > implicit deny, over statements that name the caller."""
    allowed = False
    for statement in trust.statements:
        if not statement.matches_action("sts:assumerole"):
            continue
        if not _names_caller(statement.principal or {}, caller):
            continue
        if not all_hold(statement.conditions, context):
            continue
        if statement.is_deny:
            return Effect.EXPLICIT_DENY
        allowed = True
    return Effect.ALLOW if allowed else Effect.IMPLICIT_DENY


def check_trust_policy(text: str) -> str:
    """Validate a trust policy document; raise MalformedPolicyDocument with the reason."""
    from accounts.errors import InvalidParameter

    try:
        parse_trust_policy(text)
    except PolicyError as exc:
        raise InvalidParameter("MalformedPolicyDocument", str(exc)) from exc
    return text
