"""Audit coverage of the console: every URL is classified as a mutation tested by the view
matrix, another mutation driven here, or a read; each mutation must write its event, and reads
change nothing. A new console URL fails this test until it is classified."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.test import Client
from django.urls import get_resolver, resolve
from django.urls.resolvers import URLPattern, URLResolver
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessKey, User
from audit.models import AuditEvent
from roles.models import Role
from tests.conftest import PASSWORD
from tests.test_view_matrix import SPECS, client_for, snapshot
from tests.test_view_matrix import world as world

pytestmark = pytest.mark.django_db

# Console mutations outside the view matrix, and the event each must write.
OTHER_MUTATIONS = {
    "accounts:login": "console:Login",
    "accounts:login_mfa": "console:VerifyMFA",
    "accounts:logout": "console:Logout",
    "accounts:mfa_enroll": "console:EnrollMFADevice",
    "accounts:mfa_codes": "console:RegenerateRecoveryCodes",
    "accounts:mfa_remove": "ram:UnbindMFADevice",
    "accounts:mfa_forget": "console:ForgetRememberedDevices",
    "accounts:mfa_unbind": "ram:UnbindMFADevice",
    "accounts:password_change": "ram:ChangePassword",
    "accounts:reauth": "console:Reauthenticate",
    "accounts:my_key_create": "ram:CreateAccessKey",
    "accounts:my_key_status": "ram:UpdateAccessKey",
    "accounts:my_key_rotate": "ram:RotateAccessKey",
    "accounts:my_key_delete": "ram:DeleteAccessKey",
    "accounts:key_rotation": "ram:SetKeyRotationPolicy",
    "accounts:key_rotate": "ram:RotateAccessKey",
    "accounts:key_exempt": "ram:ExemptAccessKey",
    "roles:switch_role": "console:SwitchRole",
    "roles:switch_back": "console:SwitchBack",
    "federation:acs": "console:Login",
    "federation:role_acs": "console:RoleSSO",
    "federation:role_choose": "console:RoleSSO",
}
# The ones that need a SAML identity provider (xmlsec1), driven in their own test.
SAML_MUTATIONS = {"federation:acs", "federation:role_acs", "federation:role_choose"}
# Pages that only read; a POST to them must change nothing.
READS = {
    "accounts:overview": "/console/",
    "accounts:my_mfa": "/console/credentials/mfa",
    "accounts:my_credentials": "/console/credentials/",
    "accounts:user_list": "/console/users/",
    "accounts:user_detail": "/console/users/bob/",
    "groups:group_list": "/console/groups/",
    "groups:group_detail": "/console/groups/g1/",
    "policies:policy_list": "/console/policies/",
    "policies:policy_detail": "/console/policies/Custom/P1/",
    "policies:effective": "/console/users/bob/permissions",
    "policies:role_effective": "/console/roles/ops-role/permissions",
    "policies:simulator": "/console/simulator/",
    "roles:role_list": "/console/roles/",
    "roles:role_detail": "/console/roles/ops-role/",
    "audit:overview": "/console/audit/",
    "audit:event_list": "/console/audit/events/",
    "audit:event_detail": "/console/audit/events/1/",
    "audit:event_export": "/console/audit/events/export",
    "audit:verify_status": "/console/audit/verify/1",
    "audit:sessions": "/console/audit/sessions/",
    "housekeeping:worker_health": "/console/worker/",
    "federation:sso_start": "/console/sso/start",
    "federation:provider_list": "/console/identity-providers/",
    "federation:role_sp_metadata": "/console/sso/saml-role/metadata",
    "federation:sp_metadata": "/console/sso/saml/0000000000000000/metadata",
}


def console_url_names() -> set[str]:
    """Every named URL under /console/ (the signed APIs beside it are covered elsewhere)."""

    def walk(resolver: URLResolver, namespace: str | None, route: str) -> set[str]:
        names: set[str] = set()
        for pattern in resolver.url_patterns:
            full = route + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                names |= walk(pattern, pattern.namespace or namespace, full)
            elif isinstance(pattern, URLPattern) and namespace and full.startswith("console/"):
                names.add(f"{namespace}:{pattern.name}")
        return names

    return walk(get_resolver(), None, "")


def matrix_url_names() -> set[str]:
    names = set()
    for spec in SPECS:
        match = resolve(
            spec.url.split("?")[0]
            .replace("{robokey}", "K")
            .replace("{bobsession}", "S")
            .replace("{stskey}", "T")
        )
        names.add(f"{match.namespace}:{match.url_name}")
    return names


def test_every_console_url_is_classified():
    matrix = matrix_url_names()
    classified = matrix | set(OTHER_MUTATIONS) | set(READS)
    assert console_url_names() - classified == set(), "classify the new console URL(s)"
    assert not matrix & set(OTHER_MUTATIONS) and not matrix & set(READS)
    assert not set(OTHER_MUTATIONS) & set(READS)


def test_reads_change_nothing(world):
    client = client_for(world["admin"])
    import shutil

    for name, url in READS.items():
        if name == "federation:role_sp_metadata" and not shutil.which("xmlsec1"):
            continue  # answers 503 "install xmlsec1" by design (tested in test_provider_api)
        before = snapshot(world["tenant"])
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        response = client.post(url, {"name": "x", "reason": "x"})
        assert response.status_code < 500, name
        assert snapshot(world["tenant"]) == before, name
        written = set(AuditEvent.objects.filter(id__gt=last).values_list("action", "outcome"))
        assert written <= {("audit:LookupEvents", "success"), ("audit:ExportEvents", "success")}, (
            name,
            written,
        )


class Recorder:
    """Runs one step and checks that it wrote the expected event (and nothing failed)."""

    def __init__(self) -> None:
        self.done: set[str] = set()

    def step(self, name: str, call) -> object:
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = call()
        assert response.status_code < 500, name
        actions = list(AuditEvent.objects.filter(id__gt=last).values_list("action", "outcome"))
        assert (OTHER_MUTATIONS[name], "success") in actions, (name, actions, response.status_code)
        self.done.add(name)
        return response


def _code(device: TOTPDevice, offset: int = 0) -> str:
    import base64

    secret = base64.b32encode(bytes.fromhex(device.key)).decode()
    return pyotp.TOTP(secret).at(time.time() + offset)


def test_every_other_mutation_writes_its_event(world):
    tenant, admin = world["tenant"], world["admin"]
    rec = Recorder()
    User.objects.filter(pk=admin.pk).update(programmatic_access=True)
    client = Client()
    rec.step(
        "accounts:login",
        lambda: client.post(
            "/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD}
        ),
    )
    rec.step(
        "accounts:reauth",
        lambda: client.post("/console/reauth", {"password": PASSWORD, "next": "/console/"}),
    )
    client.get("/console/mfa/enroll")
    device = TOTPDevice.objects.get(user=admin)
    rec.step(
        "accounts:mfa_enroll", lambda: client.post("/console/mfa/enroll", {"code": _code(device)})
    )
    rec.step("accounts:mfa_codes", lambda: client.post("/console/credentials/mfa/recovery-codes"))
    rec.step("accounts:mfa_forget", lambda: client.post("/console/credentials/mfa/forget-devices"))
    rec.step("accounts:logout", lambda: client.post("/console/logout"))
    client.post("/console/login", {"login": "admin@acme.iam.localhost", "password": PASSWORD})
    rec.step(
        "accounts:login_mfa", lambda: client.post("/console/login/mfa", {"code": _code(device, 30)})
    )
    client.post("/console/reauth", {"password": PASSWORD, "next": "/console/"})
    rec.step("accounts:mfa_remove", lambda: client.post("/console/credentials/mfa/remove"))
    rec.step("accounts:my_key_create", lambda: client.post("/console/credentials/access-keys/new"))
    key = AccessKey.objects.get(user=admin).access_key_id
    rec.step(
        "accounts:my_key_status",
        lambda: client.post(
            f"/console/credentials/access-keys/{key}/status", {"status": "Inactive"}
        ),
    )
    client.post(f"/console/credentials/access-keys/{key}/status", {"status": "Active"})
    rec.step(
        "accounts:my_key_rotate",
        lambda: client.post(f"/console/credentials/access-keys/{key}/rotate"),
    )
    rec.step(
        "accounts:my_key_delete",
        lambda: client.post(f"/console/credentials/access-keys/{key}/delete"),
    )
    rotation = {
        "enabled": "on",
        "max_age_days": "90",
        "warn_before_days": "7",
        "unused_days": "0",
        "action": "notify",
        "delete_after_deactivated_days": "0",
        "rotation_grace_days": "3",
    }
    rec.step(
        "accounts:key_rotation", lambda: client.post("/console/security/key-rotation", rotation)
    )
    robokey = world["robokey"]
    rec.step(
        "accounts:key_exempt",
        lambda: client.post(
            f"/console/users/robo/access-keys/{robokey}/exempt",
            {"until": "2099-01-01", "reason": "legacy batch job"},
        ),
    )
    rec.step(
        "accounts:key_rotate",
        lambda: client.post(f"/console/users/robo/access-keys/{robokey}/rotate"),
    )
    carol = User.objects.get(account=tenant.account, name="carol")
    TOTPDevice.objects.create(user=carol, confirmed=True, name="carol-phone")
    rec.step("accounts:mfa_unbind", lambda: client.post("/console/users/carol/mfa/unbind"))
    arn = f"acs:ram::{tenant.account.uid}:role/ops-role"
    rec.step(
        "roles:switch_role",
        lambda: client.post("/console/switch-role", {"role_arn": arn, "duration": "900"}),
    )
    rec.step("roles:switch_back", lambda: client.post("/console/switch-role/back"))
    new = "another long passphrase 77"
    rec.step(
        "accounts:password_change",
        lambda: client.post(
            "/console/password",
            {"old_password": PASSWORD, "new_password": new, "confirm_password": new},
        ),
    )
    assert rec.done == set(OTHER_MUTATIONS) - SAML_MUTATIONS


@pytest.mark.saml
def test_every_sso_mutation_writes_its_event(world):
    import json as _json

    from federation.saml import ROLE_ATTRIBUTE, role_sp, user_sp
    from federation.services import saml_provider_create
    from federation.user_sso import user_sso_set
    from roles.services import role_update
    from tests.federation.saml_idp import TestSamlIdp

    tenant = world["tenant"]
    rec = Recorder()
    idp = TestSamlIdp()
    user_sso_set(actor=tenant.root_principal, enabled=True, metadata=idp.metadata)
    sso_response = idp.response(user_sp(tenant.account.uid), subject="bob")
    rec.step(
        "federation:acs",
        lambda: Client().post(
            f"/console/sso/saml/{tenant.account.uid}", {"SAMLResponse": sso_response}
        ),
    )

    provider = saml_provider_create(
        actor=tenant.root_principal, name="corp-roles", metadata=idp.metadata
    )
    role = Role.objects.get(account=tenant.account, name="ops-role")
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Federated": [provider.arn]},
    }
    role_update(
        actor=tenant.root_principal,
        role=role,
        trust_policy=_json.dumps({"Version": "1", "Statement": [statement]}),
    )
    role_response = idp.response(
        role_sp(), subject="dana", attributes={ROLE_ATTRIBUTE: [f"{role.arn},{provider.arn}"]}
    )
    sso_client = Client()
    rec.step(
        "federation:role_acs",
        lambda: sso_client.post("/console/sso/saml-role", {"SAMLResponse": role_response}),
    )
    rec.step(
        "federation:role_choose",
        lambda: sso_client.post(
            "/console/sso/saml-role/choose", {"choice": f"{provider.pk}:{role.pk}"}
        ),
    )
    assert rec.done == SAML_MUTATIONS
