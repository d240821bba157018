"""Every read action of the API (classified in test_api_matrix.READS, generated from the action
registry): refused unsigned, refused to a key without permission (403 NoPermission, a denied
event), blind to this account for another account's administrator, and answered to a permitted
key with one read event — and no caller changes anything."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.openapi.test_api_matrix import (
    READS,
    Case,
    call,
    event_name,
    refused_by_other_account,
    refused_for_lack_of_permission,
    state,
    unsigned,
)
from tests.openapi.test_api_matrix import world as world

pytestmark = pytest.mark.django_db


def this_account_markers(world) -> list[str]:
    """Strings only this account's data holds: its id (in every ARN), alias and object names."""
    return [world["tenant"].account.uid, "acme", "carol", "ops-role", "k8s"]


@pytest.mark.parametrize("case", READS, ids=str)
def test_unsigned_other_account_and_unpermitted_callers_read_nothing(world, case: Case):
    before = state(world)
    response = unsigned(case, world)
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"

    response = call(world["outsider"], case, world)
    refused_by_other_account(response, case)
    if case.outsider is None:  # answered from the caller's own account
        assert response.status_code == 200, response.json()
        body = response.content.decode()
        assert not [m for m in this_account_markers(world) if m in body], body

    refused_for_lack_of_permission(call(world["plain"], case, world))
    assert state(world) == before


@pytest.mark.parametrize("case", READS, ids=str)
def test_permitted_key_reads_with_one_audit_event(world, case: Case):
    before = state(world)
    api = world["admin"]
    response = call(api, case, world)
    assert response.status_code == 200, response.json()
    assert state(world) == before
    events = AuditEvent.objects.filter(request_id=response.json()["RequestId"])
    assert [e.action for e in events] == [event_name(case)]
    event = events.get()
    assert (event.outcome, event.details) == ("success", {"read": True})
    assert event.credential == api.key_id and event.account_id == world["tenant"].account.pk
