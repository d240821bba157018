"""The check every middleware makes: route, ask iamconsole, answer or let through."""

from __future__ import annotations

import logging

from iamconsole_resource.client import Authorizer, Decision, Unavailable
from iamconsole_resource.errors import (
    ErrorReply,
    bad_request,
    missing_parameter,
    not_found,
    too_large,
    unavailable,
)
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import Routes

logger = logging.getLogger("iamconsole_resource")
PUBLIC = Decision(True, None, None, None, None)
# iamconsole refuses a question whose Query or FormBody is longer (docs/resource-services.md):
# such a request is the caller's fault, answered here, not a 503 after asking.
MAX_SIGNED_TEXT = 32 * 1024


def _oversized(request: IncomingRequest) -> ErrorReply | None:
    if len(request.query_string) > MAX_SIGNED_TEXT:
        return ErrorReply(
            414,
            "InvalidParameter.RequestSize",
            f"The query string is longer than {MAX_SIGNED_TEXT} characters.",
        )
    if not request.is_v3 and len(request.form_body) > MAX_SIGNED_TEXT:
        return too_large(MAX_SIGNED_TEXT)
    return None


def check(
    authorizer: Authorizer, routes: Routes, request: IncomingRequest
) -> Decision | ErrorReply:
    """The caller's Decision when allowed (or the route is public); else the reply to send."""
    oversized = _oversized(request)
    if oversized is not None:
        return oversized
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
