"""A request iamconsole would refuse to be asked about (a query or a V1 form body over its 32 KiB
limit) is the caller's fault: refused here without asking, never a 503."""

from __future__ import annotations

from typing import Any

from iamconsole_resource import Authorizer, IamconsoleWsgi, Routes
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

ROUTES = Routes()
ROUTES.add("PutObject", "oss:PutObject", lambda r: f"acs:oss:*:{OWNER}:b/k")
LONG = {"Content": "x" * 40_000}


def app_for(iam: Any) -> IamconsoleWsgi:
    return IamconsoleWsgi(wsgi_echo, Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET), ROUTES)


def test_a_query_longer_than_iamconsole_takes_is_414_without_asking(iam):
    for request in (v3_request("PutObject", query=LONG), v1_request("PutObject", query=LONG)):
        reply = call_wsgi(app_for(iam), wsgi_environ(request))
        assert (reply.status, reply.json()["Code"]) == (414, "InvalidParameter.RequestSize")
    assert iam.questions == []


def test_a_long_v1_form_body_is_413_while_v3_covers_its_body_by_hash(iam):
    v1 = call_wsgi(app_for(iam), wsgi_environ(v1_request("PutObject", form=LONG)))
    assert (v1.status, v1.json()["Code"]) == (413, "InvalidParameter.RequestSize")
    assert iam.questions == []
    v3 = call_wsgi(app_for(iam), wsgi_environ(v3_request("PutObject", form=LONG)))
    assert v3.status == 200
    assert len(iam.questions) == 1 and "FormBody" not in iam.questions[0]["Request"]
