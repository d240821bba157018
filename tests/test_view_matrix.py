"""Every mutating console view, for four callers: anonymous, another account's administrator,
a user without permission, and a permitted administrator (exactly one audit event)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts.access_keys import access_key_create
from accounts.models import AccessKey, ConsoleSession, SecurityPreference, User
from accounts.sessions import console_session_start
from audit.models import AuditEvent, IntegrityCheck
from federation.models import UserSsoSettings
from groups.services import group_add_user, group_create
from policies.principal import RequestMeta
from policies.services import policy_attach, policy_create, policy_version_create
from resource_services.models import DataEventSetting
from roles.models import Role
from roles.services import role_create
from sts.models import StsSession
from sts.services import assume_role
from tests.conftest import PASSWORD, principal_for, system_policy

pytestmark = pytest.mark.django_db

DOC = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"*"}]}'
POLICY_FORM = {
    "minimum_password_length": "12",
    "max_password_age": "0",
    "password_reuse_prevention": "0",
    "max_login_attempts": "5",
    "block_common_passwords": "on",
}


@dataclass(frozen=True)
class Spec:
    name: str
    url: str
    data: dict = field(default_factory=dict)
    actions: tuple[str, ...] = ()
    object_url: bool = True  # the URL names an object of the account (→ 404 for outsiders)
    ok_status: int = 302
    ok_status: int = 302


SPECS = [
    Spec(
        "user_create",
        "/console/users/new",
        {
            "name": "newbie",
            "access": "console",
            "password": PASSWORD,
            "password_reset_required": "on",
        },
        ("ram:CreateUser",),
        object_url=False,
    ),
    Spec(
        "user_edit",
        "/console/users/bob/edit",
        {"new_name": "bob", "display_name": "Bob B"},
        ("ram:UpdateUser",),
    ),
    Spec("user_delete", "/console/users/bob/delete", {}, ("ram:DeleteUser",)),
    Spec(
        "login_profile",
        "/console/users/bob/login-profile",
        {"password_reset_required": "on"},
        ("ram:UpdateLoginProfile",),
    ),
    Spec(
        "login_profile_delete",
        "/console/users/bob/login-profile/delete",
        {},
        ("ram:DeleteLoginProfile",),
    ),
    Spec(
        "group_create",
        "/console/groups/new",
        {"name": "g2"},
        ("ram:CreateGroup",),
        object_url=False,
    ),
    Spec(
        "group_edit",
        "/console/groups/g1/edit",
        {"name": "g1", "comments": "x"},
        ("ram:UpdateGroup",),
    ),
    Spec("group_delete", "/console/groups/g1/delete", {}, ("ram:DeleteGroup",)),
    Spec("member_add", "/console/groups/g1/members/add", {"user": "bob"}, ("ram:AddUserToGroup",)),
    Spec(
        "member_remove", "/console/groups/g1/members/carol/remove", {}, ("ram:RemoveUserFromGroup",)
    ),
    Spec(
        "user_join_group", "/console/users/bob/groups/add", {"group": "g1"}, ("ram:AddUserToGroup",)
    ),
    Spec(
        "policy_create",
        "/console/policies/new",
        {"name": "P2", "document": DOC},
        ("ram:CreatePolicy",),
        object_url=False,
    ),
    Spec(
        "policy_description",
        "/console/policies/Custom/P1/description",
        {"description": "d"},
        ("ram:UpdatePolicyDescription",),
    ),
    Spec(
        "version_create",
        "/console/policies/Custom/P1/versions/new",
        {"document": DOC, "set_as_default": "on"},
        ("ram:CreatePolicyVersion",),
    ),
    Spec(
        "version_set_default",
        "/console/policies/Custom/P1/versions/v2/default",
        {},
        ("ram:SetDefaultPolicyVersion",),
    ),
    Spec(
        "version_delete",
        "/console/policies/Custom/P1/versions/v2/delete",
        {},
        ("ram:DeletePolicyVersion",),
    ),
    Spec("policy_delete", "/console/policies/Custom/Spare/delete", {}, ("ram:DeletePolicy",)),
    Spec(
        "attach_user",
        "/console/users/bob/policies/attach",
        {"policy": "System/ReadOnlyAccess"},
        ("ram:AttachPolicyToUser",),
    ),
    Spec(
        "attach_group",
        "/console/groups/g1/policies/attach",
        {"policy": "System/ReadOnlyAccess"},
        ("ram:AttachPolicyToGroup",),
    ),
    Spec(
        "detach_user",
        "/console/users/carol/policies/Custom/P1/detach",
        {},
        ("ram:DetachPolicyFromUser",),
    ),
    Spec(
        "detach_group",
        "/console/groups/g1/policies/System/AliyunRAMReadOnlyAccess/detach",
        {},
        ("ram:DetachPolicyFromGroup",),
    ),
    Spec(
        "security", "/console/security/", POLICY_FORM, ("ram:SetPasswordPolicy",), object_url=False
    ),
    Spec(
        "welcome",
        "/console/welcome",
        {"name": "admin2", "password": PASSWORD},
        ("ram:CreateUser", "ram:AttachPolicyToUser"),
        object_url=False,
    ),
    Spec(
        "security_preference",
        "/console/security/preference",
        {
            "login_session_duration": "8",
            "allow_user_to_change_password": "on",
            "mfa_requirement": "off",
        },
        ("ram:SetSecurityPreference",),
        object_url=False,
    ),
    Spec(
        "account_alias",
        "/console/security/alias",
        {"alias": "acme-new"},
        ("ram:SetAccountAlias",),
        object_url=False,
    ),
    Spec(
        "role_create",
        "/console/roles/new",
        {"name": "new-role", "max_session_duration": "3600", "trusted_kind": "account"},
        ("ram:CreateRole",),
        object_url=False,
    ),
    Spec(
        "role_edit",
        "/console/roles/ops-role/edit",
        {"description": "changed", "max_session_duration": "3600", "document": "{trust}"},
        ("ram:UpdateRole",),
    ),
    Spec("role_delete", "/console/roles/ops-role/delete", {}, ("ram:DeleteRole",)),
    Spec(
        "role_attach",
        "/console/roles/ops-role/policies/attach",
        {"policy": "System/ReadOnlyAccess"},
        ("ram:AttachPolicyToRole",),
    ),
    Spec(
        "role_session_revoke",
        "/console/roles/ops-role/sessions/{stskey}/revoke",
        {},
        ("sts:RevokeSession",),
    ),
    Spec(
        "role_revoke_all",
        "/console/roles/ops-role/sessions/revoke-all",
        {},
        ("sts:RevokeRoleSessions",),
    ),
    Spec(
        "key_create",
        "/console/users/robo/access-keys/new",
        {},
        ("ram:CreateAccessKey",),
    ),
    Spec(
        "key_status",
        "/console/users/robo/access-keys/{robokey}/status",
        {"status": "Inactive"},
        ("ram:UpdateAccessKey",),
    ),
    Spec(
        "key_delete",
        "/console/users/robo/access-keys/{robokey}/delete",
        {},
        ("ram:DeleteAccessKey",),
    ),
    Spec("audit_verify", "/console/audit/verify", {}, ("audit:VerifyIntegrity",), object_url=False),
    Spec(
        "audit_retention",
        "/console/audit/retention",
        {"days": "365"},
        ("audit:SetRetention",),
        object_url=False,
    ),
    Spec(
        "audit_data_events",
        "/console/audit/data-events",
        {},  # the box unticked: stop recording allowed resource-service decisions
        ("audit:SetDataEvents",),
        object_url=False,
    ),
    Spec(
        "sso_settings",
        "/console/sso/",
        {"provisioning": "on", "auxiliary_domain": "corp.example"},
        ("ram:SetUserSsoSettings",),
        object_url=False,
    ),
    Spec(
        "saml_create",
        "/console/identity-providers/saml/new",
        {"name": "corp2", "metadata": "{idp_metadata}"},
        ("ram:CreateSAMLProvider",),
        object_url=False,
    ),
    Spec(
        "oidc_create",
        "/console/identity-providers/oidc/new",
        {
            "name": "k8s2",
            "issuer_url": "https://issuer.example.test",
            "client_ids": "sts",
            "jwks": "{jwks}",
            "issuance_limit_hours": "12",
        },
        ("ram:CreateOIDCProvider",),
        object_url=False,
    ),
    Spec(
        "provider_delete_saml",
        "/console/identity-providers/saml/corp/delete",
        {},
        ("ram:DeleteSAMLProvider",),
    ),
    Spec(
        "provider_delete_oidc",
        "/console/identity-providers/oidc/k8s/delete",
        {},
        ("ram:DeleteOIDCProvider",),
    ),
    Spec(
        "console_session_end",
        "/console/audit/sessions/console/{bobsession}/end",
        {},
        ("ram:TerminateConsoleSession",),
    ),
    Spec("sts_revoke", "/console/audit/sessions/sts/{stskey}/revoke", {}, ("sts:RevokeSession",)),
    Spec(
        "lockdown",
        "/console/audit/users/bob/lockdown",
        {"reason": "laptop stolen"},
        ("ram:LockdownUser",),
    ),
]


@pytest.fixture
def world(tenant, admin, plain, outsider):
    """bob and carol; group g1 (carol, AliyunRAMReadOnlyAccess); P1 (v1, v2) on carol; Spare."""
    root = tenant.root_principal
    tenant.make_user("bob")
    carol = tenant.make_user("carol")
    group = group_create(actor=root, name="g1")
    group_add_user(actor=root, group=group, user=carol)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), group=group)
    p1 = policy_create(actor=root, name="P1", document=DOC)
    policy_version_create(actor=root, policy=p1, document=DOC)
    policy_attach(actor=root, policy=p1, user=carol)
    policy_create(actor=root, name="Spare", document=DOC)
    robo = tenant.make_user("robo", console=False)
    User.objects.filter(pk=robo.pk).update(programmatic_access=True)
    robokey, _ = access_key_create(actor=root, user=User.objects.get(pk=robo.pk))
    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        f'"Principal":{{"RAM":["acs:ram::{tenant.account.uid}:root"]}}}}]}}'
    )
    role_create(actor=root, name="ops-role", trust_policy=trust)
    bob_session = SessionStore()
    bob_session.create()
    bobsession = console_session_start(
        bob_session,
        User.objects.get(account=tenant.account, name="bob"),
        mfa=False,
        meta=RequestMeta(),
    ).public_id
    credentials = assume_role(
        actor=principal_for(admin),
        role_arn=f"acs:ram::{tenant.account.uid}:role/ops-role",
        session_name="ops",
    )
    from federation.services import oidc_provider_create, saml_provider_create
    from tests.federation.oidc_idp import TestIdp
    from tests.federation.saml_idp import TestSamlIdp

    idp_metadata = TestSamlIdp().metadata
    saml_provider_create(actor=root, name="corp", metadata=idp_metadata)
    jwks = TestIdp().jwks
    oidc_provider_create(
        actor=root, name="k8s", issuer_url="https://issuer.example.test", jwks=jwks
    )
    return {
        "idp_metadata": idp_metadata,
        "jwks": jwks,
        "bobsession": bobsession,
        "stskey": credentials.session.access_key_id,
        "tenant": tenant,
        "admin": admin,
        "plain": plain,
        "outsider": outsider,
        "robokey": robokey.access_key_id,
        "trust": trust,
    }


def url_of(spec: Spec, world) -> str:
    url = spec.url.replace("{robokey}", world["robokey"])
    return url.replace("{bobsession}", world["bobsession"]).replace("{stskey}", world["stskey"])


def data_of(spec: Spec, world) -> dict:
    return {
        k: v.replace("{trust}", world["trust"])
        .replace("{idp_metadata}", world["idp_metadata"])
        .replace("{jwks}", world["jwks"])
        for k, v in spec.data.items()
    }


def client_for(user: User | None) -> Client:
    """A signed-in client that re-entered its password just now (step-up satisfied)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        session = client.session
        session["reauthenticated_at"] = int(time.time())
        session.save()
    return client


def snapshot(tenant) -> tuple:
    """A fingerprint of everything the views can change in the tenant's account."""
    from policies.models import PolicyAttachment, PolicyVersion

    account = tenant.account
    users = tuple(
        User.objects.filter(account=account)
        .order_by("pk")
        .values_list("name", "display_name", "console_access", "password_reset_required")
    )
    groups = tuple(account.groups.order_by("pk").values_list("name", "comments"))
    members = tuple(
        account.groups.values_list("memberships__user__name").order_by("pk", "memberships")
    )
    policies = tuple(account.policies.order_by("pk").values_list("name", "description"))
    versions = tuple(
        PolicyVersion.objects.filter(policy__account=account)
        .order_by("pk")
        .values_list("version_id", "is_default")
    )
    attachments = tuple(
        PolicyAttachment.objects.filter(account=account)
        .order_by("pk")
        .values_list("policy__name", "user__name", "group__name")
    )
    keys = tuple(
        AccessKey.objects.filter(user__account=account)
        .order_by("pk")
        .values_list("access_key_id", "status")
    )
    pw = account.password_policy
    pw.refresh_from_db()
    return (
        users,
        groups,
        members,
        policies,
        versions,
        attachments,
        keys,
        pw.minimum_password_length,
        account_settings(account),
    )


def account_settings(account) -> tuple:
    account.refresh_from_db()
    preference = tuple(SecurityPreference.objects.filter(account=account).values_list())
    roles = tuple(
        Role.objects.filter(account=account)
        .order_by("pk")
        .values_list("name", "description", "trust_policy", "sessions_valid_after")
    )
    role_policies = tuple(PolicyAttachment_roles(account))
    sessions = (
        tuple(
            ConsoleSession.objects.filter(account=account)
            .order_by("pk")
            .values_list("public_id", "ended_at")
        ),
        tuple(
            StsSession.objects.filter(account=account)
            .order_by("pk")
            .values_list("access_key_id", "revoked_at")
        ),
        IntegrityCheck.objects.filter(account=account).count(),
        tuple(
            UserSsoSettings.objects.filter(account=account).values_list(
                "enabled", "provisioning", "auxiliary_domain"
            )
        ),
        tuple(account.saml_providers.order_by("pk").values_list("name", flat=True)),
        tuple(account.oidc_providers.order_by("pk").values_list("name", flat=True)),
    )
    data_events = tuple(
        DataEventSetting.objects.filter(account=account).values_list("record_allowed", flat=True)
    )
    return (
        account.alias,
        account.audit_retention_days,
        data_events,
        preference,
        roles,
        role_policies,
        sessions,
    )


def PolicyAttachment_roles(account):
    from policies.models import PolicyAttachment

    return PolicyAttachment.objects.filter(account=account, role__isnull=False).values_list(
        "policy__name", "role__name"
    )


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_anonymous_is_sent_to_login(world, spec):
    before = snapshot(world["tenant"])
    response = client_for(None).post(url_of(spec, world), data_of(spec, world))
    assert response.status_code == 302 and response["Location"].startswith("/console/login")
    assert snapshot(world["tenant"]) == before


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_other_account_cannot_touch_this_account(world, spec):
    before = snapshot(world["tenant"])
    response = client_for(world["outsider"]).post(url_of(spec, world), data_of(spec, world))
    if spec.object_url:
        assert response.status_code == 404
    assert snapshot(world["tenant"]) == before


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_user_without_permission_is_refused(world, spec):
    before = snapshot(world["tenant"])
    events_before = AuditEvent.objects.filter(outcome="success").count()
    response = client_for(world["plain"]).post(url_of(spec, world), data_of(spec, world))
    assert response.status_code == 403
    assert b"not authorized" in response.content
    assert snapshot(world["tenant"]) == before
    assert AuditEvent.objects.filter(outcome="success").count() == events_before
    denied = AuditEvent.objects.filter(outcome="denied", actor_arn=world["plain"].arn)
    assert denied.exists()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_administrator_succeeds_with_one_audit_event(world, spec):
    before = snapshot(world["tenant"])
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = client_for(world["admin"]).post(url_of(spec, world), data_of(spec, world))
    assert response.status_code == spec.ok_status, response.content[:3000]
    assert snapshot(world["tenant"]) != before
    new = AuditEvent.objects.filter(id__gt=last).order_by("id")
    assert tuple(new.values_list("action", flat=True)) == spec.actions
    assert all(e.outcome == "success" and e.actor_arn == world["admin"].arn for e in new)
    assert all(e.account_id == world["tenant"].account.pk for e in new)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_session_without_required_mfa_is_sent_to_enrollment(world, spec):
    """An administrator whose account requires MFA but who has not bound a device yet."""
    before = snapshot(world["tenant"])
    client = client_for(world["admin"])
    session = client.session
    session["mfa_enrollment_required"] = True
    session.save()
    response = client.post(url_of(spec, world), data_of(spec, world))
    assert response.status_code == 302 and response["Location"] == "/console/mfa/enroll"
    assert snapshot(world["tenant"]) == before


STEP_UP_SPECS = [
    s
    for s in SPECS
    if s.name
    in {
        "user_delete",
        "security",
        "security_preference",
        "account_alias",
        "key_create",
        "welcome",
        "audit_retention",
        "audit_data_events",
        "sso_settings",
    }
]


@pytest.mark.parametrize("spec", STEP_UP_SPECS, ids=lambda s: s.name)
def test_sensitive_actions_need_a_recent_password(world, spec):
    before = snapshot(world["tenant"])
    client = client_for(world["admin"])
    session = client.session
    session["reauthenticated_at"] = int(time.time()) - 3600
    session.save()
    response = client.post(url_of(spec, world), data_of(spec, world))
    assert response.status_code == 302 and response["Location"].startswith("/console/reauth")
    assert snapshot(world["tenant"]) == before


def test_attaching_an_administrator_policy_needs_a_recent_password(world):
    client = client_for(world["admin"])
    session = client.session
    session["reauthenticated_at"] = int(time.time()) - 3600
    session.save()
    response = client.post(
        "/console/users/bob/policies/attach", {"policy": "System/AdministratorAccess"}
    )
    assert response["Location"].startswith("/console/reauth")
    assert not User.objects.get(name="bob").policy_attachments.exists()
    harmless = client.post(
        "/console/users/bob/policies/attach", {"policy": "System/ReadOnlyAccess"}
    )
    assert harmless["Location"] == "/console/users/bob/"
    assert User.objects.get(name="bob").policy_attachments.count() == 1


def test_security_headers(world):
    response = client_for(world["admin"]).get("/console/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_unbind_matrix(world):
    """The administrator's unbind of a user's MFA device, for the four callers."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    bob = User.objects.get(name="bob")
    TOTPDevice.objects.create(user=bob, confirmed=True)
    url = "/console/users/bob/mfa/unbind"
    assert client_for(None).post(url)["Location"].startswith("/console/login")
    assert client_for(world["outsider"]).post(url).status_code == 404
    assert client_for(world["plain"]).post(url).status_code == 403
    assert TOTPDevice.objects.filter(user=bob).exists()
    assert client_for(world["admin"]).post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=bob).exists()
    assert AuditEvent.objects.filter(action="ram:UnbindMFADevice", outcome="success").count() == 1
