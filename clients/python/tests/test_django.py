"""The Django middleware, where Django is installed (skipped otherwise)."""

from __future__ import annotations

from typing import Any

import pytest

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(ALLOWED_HOSTS=["*"], USE_TZ=True, DEFAULT_CHARSET="utf-8")
    django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402
from iamconsole_resource import Authorizer, Routes  # noqa: E402
from iamconsole_resource.django import IamconsoleMiddleware  # noqa: E402
from support import OWNER, SERVICE_KEY, SERVICE_SECRET, deny, v1_request, v3_request  # noqa: E402

ROUTES = Routes()
ROUTES.add("PutObject", "oss:PutObject", lambda r: f"acs:oss:*:{OWNER}:b/{r.params['Key']}")


def view(request: Any) -> HttpResponse:
    principal = request.iam_principal
    return HttpResponse(f"{principal.arn}|{request.body.decode()}")


def django_request(signed: Any) -> Any:
    """A Django request carrying exactly what the caller sent."""
    headers = {k: v for k, v in signed.headers.items() if k not in ("host", "content-type")}
    return RequestFactory().generic(
        signed.method,
        signed.path,
        data=signed.body,
        content_type=signed.headers.get("content-type", "application/octet-stream"),
        QUERY_STRING=signed.query_string,
        HTTP_HOST=signed.headers["host"],
        REMOTE_ADDR="198.51.100.4",
        headers=headers,
    )


def middleware(iam: Any) -> IamconsoleMiddleware:
    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET, timeout=2)
    with override_settings(
        IAMCONSOLE_ROUTES=f"{__name__}.ROUTES", IAMCONSOLE_AUTHORIZER=authorizer
    ):
        return IamconsoleMiddleware(view)


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
def test_allowed_the_view_gets_the_principal(iam, make):
    signed = make("PutObject", {"Key": "k1"}, {"Content": "hi"})
    response = middleware(iam)(django_request(signed))
    assert response.status_code == 200
    assert response.content == f"acs:ram::{OWNER}:user/alice|Content=hi".encode()
    question = iam.questions[0]
    assert question["Request"]["Headers"]["host"] == "svc.example:8080"
    assert question["Request"]["Query"] == signed.query_string
    assert question["Context"] == {"SecureTransport": False, "SourceIp": "198.51.100.4"}
    forwarded = {k: v for k, v in signed.headers.items() if k != "content-type"}
    assert {k: question["Request"]["Headers"][k] for k in forwarded} == forwarded


def test_denied_is_the_alibaba_error(iam):
    iam.body = deny("NoPermission", 403, "nope")
    response = middleware(iam)(django_request(v3_request("PutObject", {"Key": "k"})))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json;charset=utf-8"
    assert b'"Code": "NoPermission"' in response.content


def test_a_missing_parameter_and_an_unknown_action(iam):
    app = middleware(iam)
    assert app(django_request(v3_request("PutObject"))).status_code == 400
    assert app(django_request(v3_request("Other"))).status_code == 404
    assert iam.questions == []


def test_routes_given_as_an_object_and_checked(iam):
    from django.core.exceptions import ImproperlyConfigured

    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET)
    with override_settings(IAMCONSOLE_ROUTES=ROUTES, IAMCONSOLE_AUTHORIZER=authorizer):
        assert IamconsoleMiddleware(view).routes is ROUTES
    with (
        override_settings(IAMCONSOLE_ROUTES="builtins.dict", IAMCONSOLE_AUTHORIZER=authorizer),
        pytest.raises(ImproperlyConfigured),
    ):
        IamconsoleMiddleware(view)
