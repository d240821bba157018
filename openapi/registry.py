"""Actions of the signed API, registered by (Version, Action) from each app's api module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openapi.params import Params
from policies.principal import Principal

RAM = "2015-05-01"
STS = "2015-04-01"
IMS = "2019-08-15"  # identity providers (SAML/OIDC) and SSO settings
# Called without a signature (the SDKs send them anonymously): the token or assertion is the
# credential.
ANONYMOUS = {(STS, "AssumeRoleWithOIDC"), (STS, "AssumeRoleWithSAML")}


@dataclass(frozen=True)
class ApiCall:
    principal: Principal
    params: Params
    action: str


Handler = Callable[[ApiCall], dict[str, Any]]
_HANDLERS: dict[tuple[str, str], Handler] = {}


def action(version: str, name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[(version, name)] = handler
        return handler

    return register


def product(version: str) -> str:
    """The action prefix of a version: `ram` or `sts`."""
    return "sts" if version == STS else "ram"


def lookup(version: str, name: str) -> Handler | None:
    return _HANDLERS.get((version, name))


def registered() -> list[tuple[str, str]]:
    return sorted(_HANDLERS)
