"""The WSGI entry point strips a scheme from Host (alibabacloud-credentials sends one)."""

from __future__ import annotations

import io

import pytest

from iamconsole.wsgi import application


def call(host: str) -> str:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": host,
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    statuses: list[str] = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    return f"{statuses[0]} {body.decode(errors='replace')[:20]}"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8000", "http://127.0.0.1:8000", "https://127.0.0.1:8000", "HTTP://localhost"],
)
def test_host_with_scheme_is_accepted(host):
    assert call(host) == "200 OK ok"


def test_other_hosts_are_still_refused():
    assert call("http://evil.example").startswith("400")
