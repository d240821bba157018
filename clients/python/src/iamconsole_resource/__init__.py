"""Let a service accept Alibaba-signed requests; iamconsole authenticates and decides.

The Django middleware lives in `iamconsole_resource.django` (imported only by Django
projects)."""

from iamconsole_resource.asgi import IamconsoleAsgi
from iamconsole_resource.client import Authorizer, Decision, Principal, Unavailable
from iamconsole_resource.errors import ErrorReply
from iamconsole_resource.request import IncomingRequest
from iamconsole_resource.routes import CALLER_ACCOUNT, Route, Routes
from iamconsole_resource.wsgi import IamconsoleWsgi

__all__ = [
    "CALLER_ACCOUNT",
    "Authorizer",
    "Decision",
    "ErrorReply",
    "IamconsoleAsgi",
    "IamconsoleWsgi",
    "IncomingRequest",
    "Principal",
    "Route",
    "Routes",
    "Unavailable",
]
