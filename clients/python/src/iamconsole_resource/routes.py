"""What each endpoint needs: the action to authorize and the resource ARN(s) it touches.

RPC services (Alibaba style: one path, the action in `x-acs-action` or `Action`) key routes by
that action name; other services give a resolver of their own. A resource may contain
`${CallerAccountId}`, which iamconsole replaces with the authenticated caller's account id
(e.g. for creating a bucket in the caller's account).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from iamconsole_resource.request import IncomingRequest

CALLER_ACCOUNT = "${CallerAccountId}"
Resources = Callable[[IncomingRequest], list[str] | str]
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
    ) -> Route:
        route = Route(action, resources, conditions)
        self.routes[api_action] = route
        return route

    def rpc(
        self,
        api_action: str,
        action: str,
        *,
        resources: Resources,
        conditions: Conditions | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator: `@routes.rpc("GetObject", "oss:GetObject", resources=...)`; the handler is
        kept in `routes.handlers[api_action]` for the service's own dispatch."""

        def register(handler: Handler) -> Handler:
            self.add(api_action, action, resources, conditions)
            self.handlers[api_action] = handler
            return handler

        return register

    def resolver(self, resolve: Callable[[IncomingRequest], Route | None]) -> None:
        """For non-RPC services: a function from the request to its route (None: unknown)."""
        self._resolver = resolve

    def resolve(self, request: IncomingRequest) -> Route | None:
        if self._resolver is not None:
            return self._resolver(request)
        return self.routes.get(request.api_action)
