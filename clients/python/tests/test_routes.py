"""Routes: what each action needs; the caller's mistakes are answered without asking
iamconsole."""

from __future__ import annotations

from typing import Any

import pytest
from iamconsole_resource import (
    CALLER_ACCOUNT,
    Authorizer,
    IamconsoleWsgi,
    IncomingRequest,
    Route,
    Routes,
)
from support import (
    OWNER,
    SERVICE_KEY,
    SERVICE_SECRET,
    call_wsgi,
    v1_request,
    v3_request,
    wsgi_echo,
    wsgi_environ,
)

routes = Routes()


@routes.rpc(
    "GetObject",
    "oss:GetObject",
    resources=lambda r: f"acs:oss:*:{OWNER}:{r.params['Bucket']}/{r.params['Key']}",
)
def get_object(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"


@routes.rpc(
    "CopyObject",
    "oss:CopyObject",
    resources=lambda r: (
        f"acs:oss:*:{OWNER}:{r.params['Bucket']}/{r.params['Key']}",
        f"acs:oss:*:{OWNER}:{r.params['Bucket']}/{r.params['Source']}",
    ),
    conditions=lambda r: {"oss:StorageClass": r.params.get("StorageClass", "Standard")},
)
def copy_object() -> None:
    pass


routes.add(
    "CreateBucket", "oss:CreateBucket", lambda r: f"acs:oss:*:{CALLER_ACCOUNT}:{r.params['Bucket']}"
)
routes.add("Resize", "oss:Resize", lambda r: [f"acs:oss:*:{OWNER}:b/{int(r.params['Size'])}"])
routes.add("Nothing", "oss:Nothing", lambda r: [])
routes.public("Ping")


def test_the_decorator_keeps_the_handler_and_its_type():
    assert get_object("b", "k") == "b/k"  # the same function, still typed (str, str) -> str
    assert routes.handlers["GetObject"] is get_object
    assert routes.routes["GetObject"].action == "oss:GetObject"


def call(iam: Any, request: Any) -> Any:
    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET, timeout=2)
    return call_wsgi(IamconsoleWsgi(wsgi_echo, authorizer, routes), wsgi_environ(request))


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
def test_an_unknown_action_is_404(iam, make):
    reply = call(iam, make("DeleteEverything", {"Bucket": "b"}))
    assert reply.status == 404
    assert reply.json()["Code"] == "InvalidApi.NotFound"
    assert "DeleteEverything" in reply.json()["Message"]
    assert iam.questions == []


def test_no_action_at_all_is_404(iam):
    request = v3_request("GetObject")
    del request.headers["x-acs-action"]
    assert call(iam, request).status == 404


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
def test_a_missing_parameter_is_400(iam, make):
    reply = call(iam, make("GetObject", {"Bucket": "b1"}))
    assert reply.status == 400
    body = reply.json()
    assert body["Code"] == "MissingParameter"
    assert body["Message"] == (
        "The input parameter 'Key' that is mandatory for processing this request is not supplied."
    )
    assert iam.questions == []


def test_a_bad_parameter_is_400(iam):
    reply = call(iam, v3_request("Resize", {"Size": "big"}))
    assert (reply.status, reply.json()["Code"]) == (400, "InvalidParameter")
    assert iam.questions == []


def test_a_route_naming_no_resource_never_lets_through(iam):
    reply = call(iam, v3_request("Nothing"))
    assert reply.status == 500
    assert iam.questions == []


def test_several_resources_and_conditions(iam):
    reply = call(iam, v3_request("CopyObject", {"Bucket": "b", "Key": "new", "Source": "old"}))
    assert reply.status == 200
    question = iam.questions[0]
    assert question["Action"] == "oss:CopyObject"
    assert question["Resources"] == [f"acs:oss:*:{OWNER}:b/new", f"acs:oss:*:{OWNER}:b/old"]
    assert question["Context"]["Conditions"] == {"oss:StorageClass": "Standard"}


def test_the_caller_account_placeholder(iam):
    assert CALLER_ACCOUNT == "${CallerAccountId}"
    call(iam, v1_request("CreateBucket", {"Bucket": "mine"}))
    assert iam.questions[0]["Resources"] == ["acs:oss:*:${CallerAccountId}:mine"]


def test_a_public_action_asks_nobody(closed_port):
    authorizer = Authorizer(f"http://127.0.0.1:{closed_port}", SERVICE_KEY, SERVICE_SECRET)
    app = IamconsoleWsgi(wsgi_echo, authorizer, routes)
    reply = call_wsgi(app, wsgi_environ(v3_request("Ping")))
    assert reply.status == 200 and reply.json()["Arn"] is None


def test_a_resolver_for_services_that_are_not_rpc(iam):
    rest = Routes()

    @rest.resolver
    def resolve(request: IncomingRequest) -> Route | None:
        parts = request.path.strip("/").split("/", 1)
        if request.method == "POST" and len(parts) == 2:
            return Route("oss:GetObject", lambda _r: f"acs:oss:*:{OWNER}:{parts[0]}/{parts[1]}")
        return None

    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET, timeout=2)
    app = IamconsoleWsgi(wsgi_echo, authorizer, rest)
    assert call_wsgi(app, wsgi_environ(v3_request("X", path="/b1/k1"))).status == 200
    assert iam.questions[0]["Resources"] == [f"acs:oss:*:{OWNER}:b1/k1"]
    assert call_wsgi(app, wsgi_environ(v3_request("X", path="/b1"))).status == 404
