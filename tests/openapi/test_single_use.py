"""Single use is a durable fact: nonces, OIDC tokens and SAML assertions are remembered in the
database for their whole validity window, whatever happens to the cache."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from housekeeping import services as housekeeping
from singleuse.models import UsedItem
from singleuse.services import NONCE, StoreUnavailable, _digest, purge_expired, use_once
from tests.openapi.test_gateway import v1_query

ROOT = Path(__file__).resolve().parents[2]


def soon(minutes: int = 31):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def api(tenant, api_for):
    robot = tenant.make_user("robot", "AliyunRAMFullAccess", console=False)
    User.objects.filter(pk=robot.pk).update(programmatic_access=True)
    return api_for(robot)


@pytest.mark.django_db
def test_ten_thousand_nonces_then_the_first_replayed_is_refused():
    first = "nonce-0"
    assert use_once(NONCE, "LTAIkey", first, valid_until=soon())
    for i in range(1, 10_000):
        assert use_once(NONCE, "LTAIkey", f"nonce-{i}", valid_until=soon())
    assert UsedItem.objects.count() == 10_000
    assert not use_once(NONCE, "LTAIkey", first, valid_until=soon())
    assert not use_once(NONCE, "LTAIkey", "nonce-9999", valid_until=soon())
    # The same nonce under another key (scope) is another item.
    assert use_once(NONCE, "LTAIother", first, valid_until=soon())


@pytest.mark.django_db
def test_a_signed_request_replayed_after_the_cache_is_culled_and_flushed_is_refused(api):
    query = v1_query(api)
    assert Client().post("/?" + urlencode(query)).status_code == 200
    # Whatever the cache does (a DatabaseCache culls a third past MAX_ENTRIES; Redis may be
    # flushed, restarted or evict), the record of the nonce is not in it.
    for i in range(1_000):
        cache.set(f"filler:{i}", i)
    cache.clear()
    again = Client().post("/?" + urlencode(query))
    assert again.status_code == 400 and again.json()["Code"] == "SignatureNonceUsed"


@pytest.mark.django_db
def test_the_record_holds_the_whole_window_and_an_expired_one_is_taken_over():
    assert use_once(NONCE, "k", "n", valid_until=soon())
    assert not use_once(NONCE, "k", "n", valid_until=soon())
    UsedItem.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # Expired (not yet purged): the item may be presented again, atomically, once.
    assert use_once(NONCE, "k", "n", valid_until=soon())
    assert not use_once(NONCE, "k", "n", valid_until=soon())
    assert UsedItem.objects.filter(kind=NONCE).count() == 1


@pytest.mark.django_db
def test_the_worker_purges_only_expired_records():
    use_once(NONCE, "k", "old", valid_until=soon())
    UsedItem.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    use_once(NONCE, "k", "live", valid_until=soon())
    assert purge_expired() == 1
    assert not use_once(NONCE, "k", "live", valid_until=soon())
    from housekeeping.tasks import housekeeping as task

    use_once(NONCE, "k", "old2", valid_until=soon())
    UsedItem.objects.filter(digest=_digest(NONCE, "k", "old2")).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert task()["single_use_records"] == 1
    assert housekeeping.health()  # the run is recorded like every other task's


@pytest.mark.django_db
def test_store_failure_fails_closed(api):
    with mock.patch("singleuse.services.connection") as broken:
        broken.cursor.side_effect = DatabaseError("database is gone")
        broken.ops = connection.ops
        with pytest.raises(StoreUnavailable):
            use_once(NONCE, "k", "x", valid_until=soon())
        response = api.v1("ListUsers")
    assert response.status_code == 503 and response.json()["Code"] == "ServiceUnavailable"


def _other_process_uses(item: str) -> str:
    """Present (nonce, k, item) from a separate Python process on the same database."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings['NAME']}"
    else:
        url = (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    script = (
        "import django; django.setup();"
        "from datetime import timedelta; from django.utils import timezone;"
        "from singleuse.services import use_once;"
        f"print(use_once('nonce', 'k', {item!r}, valid_until=timezone.now()"
        "+ timedelta(minutes=31)))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "iamconsole.settings",
        "IAM_TESTING": "1",
        "IAM_SKIP_DOTENV": "1",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_replay_across_two_processes_is_refused():
    mine = str(uuid.uuid4())
    assert use_once(NONCE, "k", mine, valid_until=soon())
    assert _other_process_uses(mine) == "False"
    theirs = str(uuid.uuid4())
    assert _other_process_uses(theirs) == "True"
    assert not use_once(NONCE, "k", theirs, valid_until=soon())


@pytest.mark.django_db
def test_a_refusal_for_a_store_outage_is_audited(api):
    from audit.models import AuditEvent

    with mock.patch("openapi.auth.use_once", side_effect=StoreUnavailable()):
        response = api.v1("ListUsers")
    assert response.status_code == 503
    event = AuditEvent.objects.filter(error_code="ServiceUnavailable").get()
    assert event.details["stage"] == "authentication"
    assert event.details["access_key_id"] == api.key_id
