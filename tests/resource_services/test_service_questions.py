"""The service's own side of the authorization API: who may ask, about what, in what form."""

from __future__ import annotations

import json

import pytest
from iamconsole_resource import Authorizer, IncomingRequest
from iamconsole_resource.client import PATH, Unavailable
from iamconsole_resource.signing import sign

from accounts.models import User
from sts.service_principals import service_create

pytestmark = pytest.mark.django_db(transaction=True)


def unsigned_caller() -> IncomingRequest:
    return IncomingRequest.build(
        method="POST",
        path="/",
        query_string="Bucket=b1&Key=k",
        headers={"host": "127.0.0.1:9"},
        body=b"",
        source_ip="127.0.0.1",
        secure=False,
    )


def ask(live_server, key_id: str, secret: str, question: dict) -> tuple[int, dict]:
    import urllib3

    body = json.dumps(question).encode()
    host = live_server.url.removeprefix("http://")
    headers = sign(
        method="POST",
        host=host,
        path=PATH,
        action="Authorize",
        version="2026-12-01",
        body=body,
        content_type="application/json",
        access_key_id=key_id,
        access_key_secret=secret,
    )
    response = urllib3.request("POST", live_server.url + PATH, body=body, headers=headers)
    return response.status, json.loads(response.data)


def test_a_service_asks_only_about_its_own_prefix(live_server, service):
    authorizer = Authorizer(live_server.url, service.key_id, service.secret)
    for action in ("fc:InvokeFunction", "ram:DeleteUser", "sts:AssumeRole"):
        with pytest.raises(Unavailable, match=r"NoPermission\.ServiceAction"):
            authorizer.authorize(unsigned_caller(), action, ["acs:oss:*:1234567890123456:b"])
    decision = authorizer.authorize(
        unsigned_caller(), "oss:GetObject", ["acs:oss:*:1234567890123456:b/k"]
    )
    assert not decision.allowed and decision.error is not None
    assert decision.error.code == "IncompleteSignature"


def test_only_a_registered_service_may_ask(live_server, tenant, api_for):
    user = tenant.make_user("robot", "AdministratorAccess", console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    api = api_for(user)
    status, body = ask(live_server, api.key_id, api.secret, {"Action": "oss:GetObject"})
    assert (status, body["Code"]) == (403, "NoPermission.NotAService")
    status, body = ask(live_server, "LTASnothing", "x", {"Action": "oss:GetObject"})
    assert (status, body["Code"]) == (404, "InvalidAccessKeyId.NotFound")


def test_an_inactive_service_is_refused(live_server):
    record, secret = service_create(name="oss.retired")
    type(record).objects.filter(pk=record.pk).update(active=False)
    status, body = ask(live_server, record.access_key_id, secret, {"Action": "oss:GetObject"})
    assert (status, body["Code"]) == (400, "InvalidAccessKeyId.Inactive")


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ({}, "MissingAction"),
        ({"Action": "GetObject"}, "InvalidParameter.Action"),
        ({"Action": "oss:Get*"}, "InvalidParameter.Action"),
        ({"Action": "oss:GetObject", "Surprise": 1}, "InvalidParameter.Body"),
        ({"Action": "oss:GetObject", "Resources": []}, "MissingRequest"),
        (
            {
                "Action": "oss:GetObject",
                "Context": {"Conditions": {"acs:SourceIp": "10.0.0.1"}},
            },
            "InvalidParameter.Context.Conditions",
        ),
        (
            {"Action": "oss:GetObject", "Context": {"SourceIp": "999.1.1.1"}},
            "InvalidParameter.Context.SourceIp",
        ),
    ],
)
def test_malformed_questions_are_refused_with_the_field(live_server, service, question, code):
    status, body = ask(live_server, service.key_id, service.secret, question)
    assert status == 400 and body["Code"] == code, body


def test_a_replayed_question_is_refused(live_server, service):
    import urllib3

    body = json.dumps({"Action": "oss:GetObject"}).encode()
    headers = sign(
        method="POST",
        host=live_server.url.removeprefix("http://"),
        path=PATH,
        action="Authorize",
        version="2026-12-01",
        body=body,
        content_type="application/json",
        access_key_id=service.key_id,
        access_key_secret=service.secret,
    )
    first = urllib3.request("POST", live_server.url + PATH, body=body, headers=headers)
    again = urllib3.request("POST", live_server.url + PATH, body=body, headers=headers)
    assert first.status == 400  # the question itself is incomplete
    assert json.loads(again.data)["Code"] == "SignatureNonceUsed"


def test_createservice_prints_the_action_prefix(db):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("createservice", "oss.example", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["ActionPrefix"] == "oss" and printed["AccessKeyId"].startswith("LTAS")
    assert set(printed) == {"ServiceName", "AccessKeyId", "AccessKeySecret", "ActionPrefix"}


def test_a_nul_in_the_callers_request_is_the_callers_error(live_server, service):
    authorizer = Authorizer(live_server.url, service.key_id, service.secret)
    caller = IncomingRequest.build(
        method="POST",
        path="/",
        query_string="Bucket=b1&Key=k&AccessKeyId=LTAI%00x&Signature=abc",
        headers={"host": "127.0.0.1:9"},
        body=b"",
        source_ip="127.0.0.1",
        secure=False,
    )
    decision = authorizer.authorize(caller, "oss:GetObject", ["acs:oss:*:1234567890123456:b1/k"])
    assert not decision.allowed and decision.error is not None
    assert (decision.error.status, decision.error.code) == (400, "InvalidParameter.AccessKeyId")


def test_a_service_name_may_not_share_or_borrow_a_prefix(db):
    from accounts.errors import Conflict, InvalidParameter

    service_create(name="oss.example")
    with pytest.raises(Conflict) as shared:
        service_create(name="oss.other")
    assert shared.value.code == "EntityAlreadyExists.ServicePrefix"
    for reserved in ("ram.example", "sts.example", "audit.example"):
        with pytest.raises(InvalidParameter):
            service_create(name=reserved)
    with pytest.raises(InvalidParameter) as bad_host:
        service_create(name="fc.example", hosts=["not a host"])
    assert bad_host.value.code == "InvalidParameter.Host"


def test_the_callers_duplicate_parameter_comes_back_as_its_error(live_server, service):
    authorizer = Authorizer(live_server.url, service.key_id, service.secret)
    caller = IncomingRequest.build(
        method="POST",
        path="/",
        query_string="Bucket=b1&Bucket=b2&Key=k",
        headers={"host": "127.0.0.1:9"},
        body=b"",
        source_ip="127.0.0.1",
        secure=False,
    )
    decision = authorizer.authorize(caller, "oss:GetObject", ["acs:oss:*:1234567890123456:b/k"])
    assert decision.error is not None
    assert (decision.error.status, decision.error.code) == (400, "InvalidParameter.Bucket")


def test_the_caller_account_placeholder_stands_only_for_the_account(live_server, service):
    authorizer = Authorizer(live_server.url, service.key_id, service.secret)
    for resource in (
        "acs:oss:*:${CallerAccountId}:b/x${CallerAccountId}",
        "acs:oss:*:*:b/k",
        "acs:oss:*:12345:b/k",
    ):
        with pytest.raises(Unavailable, match=r"InvalidParameter\.Resources"):
            authorizer.authorize(unsigned_caller(), "oss:GetObject", [resource])
