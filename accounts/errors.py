"""Errors raised by services, each with the Alibaba error code and HTTP status it maps to."""

from __future__ import annotations


class IamError(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class InvalidParameter(IamError):
    status = 400


class NotFound(IamError):
    status = 404


class Conflict(IamError):
    status = 409


class NoPermission(IamError):
    status = 403

    def __init__(self, action: str, resource: str, explicit: bool = False) -> None:
        kind = "explicitly denied" if explicit else "not allowed by any policy"
        super().__init__(
            "NoPermission",
            f"You are not authorized to do this action ({action} on {resource}: {kind}).",
        )
        self.action = action
        self.resource = resource
        self.explicit = explicit
