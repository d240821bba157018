"""Audit coverage of the API: every registered RAM and STS action, called by a permitted key,
by a key without permissions and by another account, leaves an event in the caller's account
naming the action, the key and the request id. Unknown parameters and reads count too."""

from __future__ import annotations

import pytest

from accounts.models import User
from audit.integrity import verify_chain
from audit.models import AuditEvent
from openapi import registry

pytestmark = pytest.mark.django_db

ACTIONS = registry.registered()


@pytest.fixture
def callers(tenant, other_tenant, api_for):
    users = {
        "permitted": tenant.make_user("cov-admin", "AdministratorAccess", console=False),
        "unpermitted": tenant.make_user("cov-plain", console=False),
        "outsider": other_tenant.make_user("cov-out", "AdministratorAccess", console=False),
    }
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(programmatic_access=True)
    return {name: (api_for(user), user) for name, user in users.items()}


@pytest.mark.parametrize("caller", ["permitted", "unpermitted", "outsider"])
@pytest.mark.parametrize(("version", "action"), ACTIONS, ids=[f"{v}:{a}" for v, a in ACTIONS])
def test_every_action_writes_an_event(callers, caller, version, action):
    api, user = callers[caller]
    # A nonexistent name: permitted mutations fail on it, reads of it are refused, so the test
    # never depends on the order of actions; the event must be written either way.
    response = api.v3(action, version=version, UserName="ghost", RoleName="ghost")
    request_id = response.json()["RequestId"]
    events = list(AuditEvent.objects.filter(request_id=request_id))
    assert events, f"{action} wrote no audit event for a {caller} caller"
    product = registry.product(version)
    if (version, action) in registry.ANONYMOUS:
        # The token is the credential: a signature is ignored, and an exchange that fails
        # before a provider is found belongs to no account.
        assert all(e.actor_kind == "anonymous" and e.account_id is None for e in events)
        assert all(e.outcome == "error" and e.error_code for e in events)
        return
    for event in events:
        assert event.account_id == user.account_id
        assert event.credential == api.key_id and event.actor_arn == user.arn
        assert event.action.startswith(f"{product}:") or event.action.startswith("sts:")
        if response.status_code >= 400:
            assert event.outcome in ("denied", "error")
            assert event.error_code == response.json()["Code"]
    assert verify_chain(user.account_id).intact


def test_every_read_of_a_permitted_key_is_recorded(callers, tenant):
    api, _ = callers["permitted"]
    response = api.v3("ListUsers")
    assert response.status_code == 200
    event = AuditEvent.objects.get(request_id=response.json()["RequestId"])
    assert (event.action, event.outcome, event.details) == (
        "ram:ListUsers",
        "success",
        {"read": True},
    )


def test_a_failed_validation_is_recorded_with_its_code(callers):
    api, _ = callers["permitted"]
    response = api.v3("CreateUser", UserName="bad name!")
    body = response.json()
    assert response.status_code == 400
    event = AuditEvent.objects.get(request_id=body["RequestId"])
    assert (event.action, event.outcome, event.error_code) == (
        "ram:CreateUser",
        "error",
        body["Code"],
    )
