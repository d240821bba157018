"""Let a service accept Alibaba-signed requests; iamconsole authenticates and decides."""

from iamconsole_resource.client import Authorizer, Decision, Principal, Unavailable
from iamconsole_resource.errors import ErrorReply
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import CALLER_ACCOUNT, Route, Routes

__all__ = [
    "CALLER_ACCOUNT",
    "Authorizer",
    "Decision",
    "ErrorReply",
    "IncomingRequest",
    "Principal",
    "Route",
    "Routes",
    "Unavailable",
]
