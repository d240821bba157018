"""Authorization comes before existence and state: a caller without permission gets 403
NoPermission (and a denied audit event) whether the target exists or not, and whatever state
it is in; self-service refusals go through the same guard."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.preferences import security_preference_set
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def narrow(tenant, api_for):
    user = tenant.make_user("narrow", console=True)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    return api_for(user)


@pytest.fixture
def victim(tenant):
    return tenant.make_user("victim", console=True)  # has a login profile, no MFA


def _refused(response, action):
    assert response.status_code == 403, response.content
    assert response.json()["Code"] == "NoPermission"
    assert AuditEvent.objects.filter(action=action, outcome="denied").exists()


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("CreateLoginProfile", {"UserName": "victim", "Password": "Str0ng-Passw0rd!x"}),
        ("UpdateLoginProfile", {"UserName": "robot"}),  # robot has no login profile
        ("DeleteLoginProfile", {"UserName": "robot"}),
        ("UnbindMFADevice", {"UserName": "victim"}),  # victim has no MFA device
        ("GetUser", {"UserName": "ghost"}),
        ("DeleteUser", {"UserName": "ghost"}),
        ("GetLoginProfile", {"UserName": "ghost"}),
        ("CreateAccessKey", {"UserName": "ghost"}),
        ("ListAccessKeys", {"UserName": "ghost"}),
        (
            "BindMFADevice",
            {
                "UserName": "ghost",
                "SerialNumber": "x",
                **{"AuthenticationCode1": "123456", "AuthenticationCode2": "654321"},
            },
        ),
        ("GetGroup", {"GroupName": "ghosts"}),
        ("DeleteGroup", {"GroupName": "ghosts"}),
        ("GetRole", {"RoleName": "ghost"}),
        ("DeleteRole", {"RoleName": "ghost"}),
        ("DeleteVirtualMFADevice", {"SerialNumber": "acs:ram::1:mfa/ghost"}),
        ("GetPolicy", {"PolicyName": "ghost", "PolicyType": "Custom"}),
        ("DeletePolicy", {"PolicyName": "ghost"}),
    ],
)
def test_a_caller_without_permission_learns_nothing_about_the_target(
    tenant, narrow, victim, action, params
):
    tenant.make_user("robot", console=False)
    _refused(narrow.v1(action, **params), f"ram:{action}")


def test_change_password_refused_by_preference_is_audited(tenant, plain):
    from accounts.errors import NoPermission
    from accounts.services import password_change
    from tests.conftest import PASSWORD, principal_for

    security_preference_set(actor=tenant.root_principal, allow_user_to_change_password=False)
    with pytest.raises(NoPermission):
        password_change(
            actor=principal_for(plain),
            user=plain,
            old_password=PASSWORD,
            new_password="An0ther-Str0ng-Passw0rd",
        )
    assert AuditEvent.objects.filter(action="ram:ChangePassword", outcome="denied").exists()


def test_own_mfa_removal_refused_by_preference_is_audited(tenant, plain):
    from accounts import mfa
    from accounts.errors import NoPermission
    from tests.conftest import principal_for

    security_preference_set(actor=tenant.root_principal, allow_user_to_manage_mfa_devices=False)
    with pytest.raises(NoPermission):
        mfa.unbind(actor=principal_for(plain), user=plain)
    assert AuditEvent.objects.filter(action="ram:UnbindMFADevice", outcome="denied").exists()
