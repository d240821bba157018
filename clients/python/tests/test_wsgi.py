"""The WSGI middleware's own edges: status lines, body limits, chunked bodies, the body
handed on."""

from __future__ import annotations

import io
from typing import Any

from iamconsole_resource import Authorizer, IamconsoleWsgi, Routes
from support import (
    OWNER,
    SERVICE_KEY,
    SERVICE_SECRET,
    call_wsgi,
    deny,
    v3_request,
    wsgi_echo,
    wsgi_environ,
)

ROUTES = Routes()
ROUTES.add("PutObject", "oss:PutObject", lambda r: f"acs:oss:*:{OWNER}:b/k")


def app_for(iam: Any, max_body: int = 1 << 20) -> IamconsoleWsgi:
    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET, timeout=2)
    return IamconsoleWsgi(wsgi_echo, authorizer, ROUTES, max_body=max_body)


def raw_status(app: Any, environ: dict) -> str:
    seen: list[str] = []
    b"".join(app(environ, lambda status, headers, exc_info=None: seen.append(status)))
    return seen[0]


def test_status_lines_carry_the_reason_phrase(iam):
    iam.body = deny()
    request = v3_request("PutObject", form={"Content": "x"})
    assert raw_status(app_for(iam), wsgi_environ(request)) == "403 Forbidden"
    assert raw_status(app_for(iam), wsgi_environ(v3_request("Nope"))) == "404 Not Found"
    iam.status = 500
    assert raw_status(app_for(iam), wsgi_environ(request)) == "503 Service Unavailable"


def test_a_body_over_the_limit_is_413_without_asking(iam):
    request = v3_request("PutObject", form={"Content": "x" * 200})
    reply = call_wsgi(app_for(iam, max_body=100), wsgi_environ(request))
    assert (reply.status, reply.json()["Code"]) == (413, "InvalidParameter.RequestSize")
    assert iam.questions == []


def test_a_bad_content_length_is_400(iam):
    environ = wsgi_environ(v3_request("PutObject"))
    environ["CONTENT_LENGTH"] = "-5"
    assert call_wsgi(app_for(iam), environ).status == 400
    environ["CONTENT_LENGTH"] = "abc"
    assert call_wsgi(app_for(iam), environ).status == 400
    assert iam.questions == []


def test_the_handler_reads_the_body_again(iam):
    request = v3_request("PutObject", form={"Content": "hello"})
    reply = call_wsgi(app_for(iam), wsgi_environ(request))
    assert reply.json()["Body"] == "Content=hello"


class Trickle(io.RawIOBase):
    """A wsgi.input that hands over one byte per read."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk


def test_short_reads_and_chunked_bodies(iam):
    request = v3_request("PutObject", form={"Content": "hello"})
    environ = wsgi_environ(request)
    environ["wsgi.input"] = Trickle(request.body)
    assert call_wsgi(app_for(iam), environ).json()["Body"] == "Content=hello"
    chunked = wsgi_environ(request)
    del chunked["CONTENT_LENGTH"]
    chunked["wsgi.input_terminated"] = True
    assert call_wsgi(app_for(iam), chunked).json()["Body"] == "Content=hello"
    assert iam.questions[1]["Request"]["BodySha256"] == request.headers["x-acs-content-sha256"]
    too_big = wsgi_environ(request)
    del too_big["CONTENT_LENGTH"]
    too_big["wsgi.input_terminated"] = True
    assert call_wsgi(app_for(iam, max_body=5), too_big).status == 413


def test_a_request_without_host_uses_the_server_name(iam):
    environ = wsgi_environ(v3_request("PutObject"))
    del environ["HTTP_HOST"]
    call_wsgi(app_for(iam), environ)
    assert iam.questions[0]["Request"]["Headers"]["host"] == "svc.example:8080"


def test_the_source_ip_is_remote_addr_unless_a_trusted_proxy_hook_names_the_caller(iam):
    request = v3_request("PutObject", form={"Content": "x"})
    environ = wsgi_environ(request)
    environ["REMOTE_ADDR"] = "10.0.0.5"  # the proxy
    environ["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    call_wsgi(app_for(iam), dict(environ, **{"wsgi.input": io.BytesIO(request.body)}))
    assert iam.questions[-1]["Context"]["SourceIp"] == "10.0.0.5"
    authorizer = Authorizer(iam.url, SERVICE_KEY, SERVICE_SECRET, timeout=2)
    behind_proxy = IamconsoleWsgi(
        wsgi_echo,
        authorizer,
        ROUTES,
        source_ip=lambda env: env["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip(),
    )
    call_wsgi(behind_proxy, dict(environ, **{"wsgi.input": io.BytesIO(request.body)}))
    assert iam.questions[-1]["Context"]["SourceIp"] == "203.0.113.9"
