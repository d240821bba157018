"""The check every middleware makes: route, ask iamconsole, answer or let through."""

from __future__ import annotations

import logging

from iamconsole_resource.client import Authorizer, Decision, Unavailable
from iamconsole_resource.errors import (
    ErrorReply,
    bad_request,
    missing_parameter,
    not_found,
    unavailable,
)
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

logger = logging.getLogger("iamconsole_resource")
PUBLIC = Decision(True, None, None, None, None)


def check(
    authorizer: Authorizer, routes: Routes, request: IncomingRequest
) -> Decision | ErrorReply:
    """The caller's Decision when allowed (or the route is public); else the reply to send."""
    route = routes.resolve(request)
    if route is None:
        return not_found(request.api_action)
    if route.public:
        return PUBLIC
    try:
        resources = route.resources_for(request)
        conditions = route.conditions(request) if route.conditions else None
    except KeyError as exc:
        return missing_parameter(str(exc.args[0]) if exc.args else "")
    except ValueError as exc:
        return bad_request("InvalidParameter", f"A parameter is not valid: {exc}")
    if not resources:
        logger.error("refusing %s: its route named no resource", route.action)
        return ErrorReply(500, "InternalError", "The service could not name the resource.")
    try:
        decision = authorizer.authorize(request, route.action, resources, conditions)
    except Unavailable as exc:
        logger.error("refusing %s: %s", route.action, exc)
        return unavailable()
    if decision.allowed:
        return decision
    return decision.error or ErrorReply(403, "NoPermission", "You are not authorized.")
