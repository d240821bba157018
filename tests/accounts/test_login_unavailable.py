"""Sign-in when the cache that holds the per-address throttle is down: a clear 503, never a
500 and never an unthrottled password check."""

from __future__ import annotations

import socket
from unittest import mock

import pytest

from accounts.models import User
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "iamconsole.cache.PooledRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }


def test_login_answers_503_when_the_cache_redis_is_down(client, plain, redis_down):
    with mock.patch.object(User, "check_password") as check:
        response = client.post(
            "/console/login", {"login": "plain@acme.iam.localhost", "password": PASSWORD}
        )
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content
    assert b"Traceback" not in response.content
    check.assert_not_called()  # no password is checked without the throttle
    assert "_auth_user_id" not in client.session


def test_login_answers_503_when_the_cache_raises(client, plain):
    broken = mock.Mock(side_effect=ConnectionError("cache down"))
    with mock.patch.multiple("accounts.login.cache", get=broken, add=broken, incr=broken):
        response = client.post(
            "/console/login", {"login": "plain@acme.iam.localhost", "password": PASSWORD}
        )
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.content
    event = AuditEvent.objects.filter(action="console:Login").last()
    assert event is not None and event.outcome == "error"
    assert event.details["reason"] == "throttle_unavailable"
