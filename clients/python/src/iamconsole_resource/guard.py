"""The check every middleware makes: route, ask iamconsole, answer or let through."""

from __future__ import annotations

import logging

from iamconsole_resource.client import Authorizer, Decision, Unavailable
from iamconsole_resource.errors import ErrorReply, bad_request, not_found, unavailable
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

logger = logging.getLogger("iamconsole_resource")


def check(
    authorizer: Authorizer, routes: Routes, request: IncomingRequest
) -> Decision | ErrorReply:
    """The caller's Decision when allowed (or the route is public); else the reply to send."""
    route = routes.resolve(request)
    if route is None:
        return not_found(request.api_action)
    if route.public:
        return Decision(True, None, None, None, None)
    try:
        resources = route.resources_for(request)
        conditions = route.conditions(request) if route.conditions else None
    except (KeyError, ValueError) as exc:
        return bad_request("MissingParameter", f"A required parameter is missing or bad: {exc}")
    try:
        decision = authorizer.authorize(request, route.action, resources, conditions)
    except Unavailable as exc:
        logger.error("refusing %s: %s", route.action, exc)
        return unavailable()
    if decision.allowed:
        return decision
    return decision.error or ErrorReply(403, "NoPermission", "You are not authorized.")
