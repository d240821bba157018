"""What each endpoint needs: the action to authorize and the resource ARN(s) it touches.

RPC services (Alibaba style: one path, the action in `x-acs-action` or `Action`) key routes by
that action name; other services give a resolver of their own. A resource may contain
`${CallerAccountId}`, which iamconsole replaces with the authenticated caller's account id
(e.g. for creating a bucket in the caller's account).

A resources (or conditions) function may read `request.params[...]`: a missing parameter (a
KeyError) is answered 400 MissingParameter, a ValueError 400 InvalidParameter, without asking
iamconsole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from iamconsole_resource.request import IncomingRequest

CALLER_ACCOUNT = "${CallerAccountId}"
Resources = Callable[[IncomingRequest], str | Sequence[str]]
Conditions = Callable[[IncomingRequest], Mapping[str, Any]]
Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Route:
    action: str  # e.g. "oss:GetObject"
    resources: Resources
    conditions: Conditions | None = None
    public: bool = False  # answered without authentication (e.g. a health check)

    def resources_for(self, request: IncomingRequest) -> list[str]:
        found = self.resources(request)
        return [found] if isinstance(found, str) else list(found)


class Routes:
    """A route table; build it at import time, then share it between threads (read-only)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.handlers: dict[str, Callable[..., Any]] = {}
        self._resolver: Callable[[IncomingRequest], Route | None] | None = None

    def add(
        self,
        api_action: str,
        action: str,
        resources: Resources,
        conditions: Conditions | None = None,
        *,
        public: bool = False,
    ) -> Route:
        route = Route(action, resources, conditions, public)
        self.routes[api_action] = route
        return route

    def public(self, api_action: str) -> Route:
        """An action answered without asking iamconsole (the handler gets no principal)."""
        return self.add(api_action, "", lambda _request: [], public=True)

    def rpc(
        self,
        api_action: str,
        action: str,
        *,
        resources: Resources,
        conditions: Conditions | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator: `@routes.rpc("GetObject", "oss:GetObject", resources=...)`; the handler is
        returned unchanged and kept in `routes.handlers[api_action]` for the service's own
        dispatch."""

        def register(handler: Handler) -> Handler:
            self.add(api_action, action, resources, conditions)
            self.handlers[api_action] = handler
            return handler

        return register

    def resolver(
        self, resolve: Callable[[IncomingRequest], Route | None]
    ) -> Callable[[IncomingRequest], Route | None]:
        """For non-RPC services: a function from the request to its route (None: unknown).
        Usable as a decorator."""
        self._resolver = resolve
        return resolve

    def resolve(self, request: IncomingRequest) -> Route | None:
        if self._resolver is not None:
            return self._resolver(request)
        return self.routes.get(request.api_action)
