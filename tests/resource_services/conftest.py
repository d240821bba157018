"""A resource service on loopback, guarded by the client package, asking the live server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from iamconsole_resource import Authorizer, Routes
from iamconsole_resource.wsgi import PRINCIPAL, IamconsoleWsgi

from policies.services import policy_attach, policy_create
from sts.service_principals import service_create


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Service:
    name: str
    key_id: str
    secret: str


@pytest.fixture
def service(db) -> Service:
    record, secret = service_create(name="oss.example")
    return Service(record.name, record.access_key_id, secret)


def demo_routes(owner_uid: str) -> Routes:
    """RPC actions of a tiny store whose every bucket belongs to `owner_uid`."""
    routes = Routes()

    def bucket(request):
        return f"acs:oss:*:{owner_uid}:{request.params['Bucket']}"

    def obj(request):
        return f"{bucket(request)}/{request.params['Key']}"

    routes.add("GetObject", "oss:GetObject", obj)
    routes.add("PutObject", "oss:PutObject", obj)
    routes.add("ListObjects", "oss:ListObjects", bucket)
    return routes


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    principal = environ[PRINCIPAL]
    body = json.dumps({"Arn": principal.arn, "Type": principal.type}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@pytest.fixture
def guarded(live_server, service) -> Iterator[Any]:
    """guarded(owner_uid, endpoint=None) -> "127.0.0.1:PORT" of a running guarded service."""
    servers: list[Any] = []

    def start(owner_uid: str, endpoint: str | None = None) -> str:
        authorizer = Authorizer(
            endpoint or live_server.url, service.key_id, service.secret, timeout=5
        )
        app = IamconsoleWsgi(echo_app, authorizer, demo_routes(owner_uid))
        server = make_server(
            "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def grant(tenant, user, document: dict, name: str = "oss-access") -> None:
    policy = policy_create(actor=tenant.root_principal, name=name, document=json.dumps(document))
    policy_attach(actor=tenant.root_principal, policy=policy, user=user)


class CallError(Exception):
    def __init__(self, code: str, status: int | None, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code, self.status, self.message = code, status, message


VERSION = "2026-12-01"


def tea_call(
    endpoint: str,
    key_id: str,
    secret: str,
    action: str,
    query: dict[str, str],
    body: dict[str, str] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """The tea V3 client's generic call_api, as a program calls a custom RPC service."""
    from alibabacloud_tea_openapi import models as om
    from alibabacloud_tea_openapi.client import Client
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
    from alibabacloud_tea_util.models import RuntimeOptions

    config = om.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=endpoint,
        protocol="http",
        read_timeout=20000,
    )
    params = om.Params(
        action=action,
        version=VERSION,
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = om.OpenApiRequest(query=query, body=body)
    try:
        return Client(config).call_api(params, request, RuntimeOptions())["body"]
    except AlibabaCloudException as exc:
        raise CallError(exc.code, exc.status_code, exc.message) from exc


def legacy_call(
    endpoint: str,
    key_id: str,
    secret: str,
    action: str,
    query: dict[str, str],
    token: str | None = None,
) -> dict[str, Any]:
    """aliyun-python-sdk-core's CommonRequest (V1, HMAC-SHA1; everything in the query)."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    request = CommonRequest(domain=endpoint, version=VERSION, action_name=action)
    request.set_protocol_type("http")
    request.set_method("POST")
    for name, value in query.items():
        request.add_query_param(name, value)
    if token:
        client = AcsClient(
            region_id="cn-hangzhou", credential=StsTokenCredential(key_id, secret, token)
        )
    else:
        client = AcsClient(key_id, secret, "cn-hangzhou")
    try:
        return json.loads(client.do_action_with_exception(request))
    except ServerException as exc:
        raise CallError(exc.get_error_code(), exc.get_http_status(), exc.get_error_msg()) from exc


@pytest.fixture
def api_for():
    """api_for(user) -> an object with key_id and secret of a fresh AccessKey of that user."""
    from accounts.access_keys import access_key_create
    from tests.conftest import principal_for
    from tests.openapi.conftest import Api

    def make(user):
        from accounts.models import User

        owner = User.objects.select_related("account").get(pk=user.pk)
        root = User.objects.get(account_id=owner.account_id, kind="root")
        key, secret = access_key_create(actor=principal_for(root), user=owner)
        return Api(key.access_key_id, secret)

    return make
