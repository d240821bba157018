"""Permission checks shared by services and views: authorize; on denial, audit and raise.

Services call `require` before opening their write transaction, so the denied event is
committed even though the change is refused.
"""

from __future__ import annotations

from typing import NoReturn

from accounts.errors import NoPermission
from audit.services import event_record
from policies.authorization import authorize
from policies.engine import Effect
from policies.principal import Principal


def require(actor: Principal, action: str, resource: str) -> None:
    """Raise NoPermission (after recording a denied event) unless `actor` may do `action`."""
    decision = authorize(actor, action, resource)
    if decision.allowed:
        return
    explicit = decision.effect is Effect.EXPLICIT_DENY
    event_record(
        actor=actor,
        action=action,
        target_arn=resource,
        outcome="denied",
        error_code="NoPermission",
        details={"effect": decision.effect.value},
    )
    raise NoPermission(action, resource, explicit=explicit)


def refuse(actor: Principal, action: str, resource: str, *, reason: str) -> NoReturn:
    """A refusal decided outside the policy engine (a self-service switch of the account's
    security preference): recorded as denied like any other, then raised."""
    event_record(
        actor=actor,
        action=action,
        target_arn=resource,
        outcome="denied",
        error_code="NoPermission",
        details={"reason": reason},
    )
    raise NoPermission(action, resource)


def allowed(actor: Principal, action: str, resource: str) -> bool:
    """A flag for templates and menus; never records anything."""
    return authorize(actor, action, resource).allowed
