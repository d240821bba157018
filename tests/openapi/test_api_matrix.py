"""The API permission matrix, generated from the action registry: every signed action is
classified here — a mutation, a read or self-service, with the parameters that call it — and a new
action fails the suite until it is. Mutations are called unsigned, by another account's
administrator and by a key without permission (refused, nothing changes), and by a permitted key
(it changes, with exactly one audit event naming the key); reads are driven the same way in
test_api_read_matrix.py."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlencode

import pyotp
import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access_keys import access_key_create
from accounts.models import AccessKey, SecurityPreference, User, VirtualMFADevice
from accounts.virtual_mfa import device_create, record_console_enrollment
from audit.models import AuditEvent
from federation.models import OIDCProvider, SAMLProvider
from federation.services import oidc_provider_create, saml_provider_create
from groups.services import group_add_user, group_create
from openapi import registry
from openapi.registry import IMS, RAM, STS
from policies.services import policy_attach, policy_create, policy_version_create
from roles.services import role_create
from tests.conftest import PASSWORD, system_policy
from tests.federation.oidc_idp import CLIENT_ID, ISSUER, TestIdp
from tests.federation.saml_idp import TestSamlIdp
from tests.test_view_matrix import snapshot

pytestmark = pytest.mark.django_db

DOC = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"*"}]}'
FINGERPRINT = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"
OTHER_FINGERPRINT = "a" * 40
NOT_FOUND = 404  # another account's caller naming this account's object: it doesn't exist


@dataclass(frozen=True)
class Case:
    """One action: how to call it, and what another account's caller gets.

    `outsider` is the status a caller from another account gets when it names this account's
    resources; None when the action only names the caller's own account (it acts there)."""

    version: str
    action: str
    params: dict[str, str] = field(default_factory=dict)
    outsider: int | None = NOT_FOUND

    @property
    def key(self) -> tuple[str, str]:
        return (self.version, self.action)

    def __str__(self) -> str:
        return self.action


def ram(action: str, outsider: int | None = NOT_FOUND, **params: str) -> Case:
    return Case(RAM, action, params, outsider)


def ims(action: str, outsider: int | None = NOT_FOUND, **params: str) -> Case:
    return Case(IMS, action, params, outsider)


ROLE = {"RoleName": "ops-role"}
OIDC = {"OIDCProviderName": "k8s"}
SAML = {"SAMLProviderName": "corp"}
P1 = {"PolicyType": "Custom", "PolicyName": "P1"}
READ_ONLY = {"PolicyType": "System", "PolicyName": "ReadOnlyAccess"}

MUTATIONS = [
    ram("CreateUser", None, UserName="newbie"),
    ram("UpdateUser", UserName="bob", NewDisplayName="Bob B"),
    ram("DeleteUser", UserName="dave"),
    ram("CreateLoginProfile", UserName="dave", Password=PASSWORD),
    ram("UpdateLoginProfile", UserName="bob", PasswordResetRequired="True"),
    ram("DeleteLoginProfile", UserName="bob"),
    ram("CreateAccessKey", UserName="bob"),
    ram("UpdateAccessKey", UserName="bob", UserAccessKeyId="{bobkey}", Status="Inactive"),
    ram("DeleteAccessKey", UserName="bob", UserAccessKeyId="{bobkey}"),
    ram("CreateGroup", None, GroupName="g2"),
    ram("UpdateGroup", GroupName="g1", NewComments="x"),
    ram("DeleteGroup", GroupName="empty"),
    ram("AddUserToGroup", GroupName="g1", UserName="bob"),
    ram("RemoveUserFromGroup", GroupName="g1", UserName="carol"),
    ram("CreatePolicy", None, PolicyName="P2", PolicyDocument=DOC),
    ram("UpdatePolicyDescription", PolicyName="P1", NewDescription="d"),
    ram("DeletePolicy", PolicyName="Spare"),
    ram("CreatePolicyVersion", PolicyName="P1", PolicyDocument=DOC),
    ram("SetDefaultPolicyVersion", PolicyName="P1", VersionId="v2"),
    ram("DeletePolicyVersion", PolicyName="P1", VersionId="v2"),
    ram("AttachPolicyToUser", **READ_ONLY, UserName="bob"),
    ram("AttachPolicyToGroup", **READ_ONLY, GroupName="g1"),
    ram("DetachPolicyFromUser", **P1, UserName="carol"),
    ram(
        "DetachPolicyFromGroup",
        PolicyType="System",
        PolicyName="AliyunRAMReadOnlyAccess",
        GroupName="g1",
    ),
    ram("CreateRole", None, RoleName="r2", AssumeRolePolicyDocument="{trust}"),
    ram("UpdateRole", **ROLE, NewDescription="d"),
    ram("DeleteRole", RoleName="spare-role"),
    ram("AttachPolicyToRole", **READ_ONLY, **ROLE),
    ram("DetachPolicyFromRole", **P1, **ROLE),
    ram("SetPasswordPolicy", None, MinimumPasswordLength="12"),
    ram("SetSecurityPreference", None, AllowUserToManageAccessKeys="True"),
    ram("SetAccountAlias", None, AccountAlias="acme-two"),
    ram("ClearAccountAlias", None),
    ram("CreateVirtualMFADevice", None, VirtualMFADeviceName="new-phone"),
    ram(
        "BindMFADevice",
        SerialNumber="{spare}",
        UserName="bob",
        AuthenticationCode1="{code1}",
        AuthenticationCode2="{code2}",
    ),
    ram("DeleteVirtualMFADevice", SerialNumber="{spare}"),
    ram("UnbindMFADevice", UserName="carol"),
    ims(
        "CreateOIDCProvider",
        None,
        OIDCProviderName="k9s",
        IssuerUrl=ISSUER,
        Fingerprints=FINGERPRINT,
    ),
    ims("UpdateOIDCProvider", **OIDC, NewDescription="d"),
    ims("DeleteOIDCProvider", OIDCProviderName="spare-oidc"),
    ims("AddClientIdToOIDCProvider", **OIDC, ClientId="another-client"),
    ims("RemoveClientIdFromOIDCProvider", **OIDC, ClientId=CLIENT_ID),
    ims("AddFingerprintToOIDCProvider", **OIDC, Fingerprint=OTHER_FINGERPRINT),
    ims("RemoveFingerprintFromOIDCProvider", **OIDC, Fingerprint=FINGERPRINT),
    ims("CreateSAMLProvider", None, SAMLProviderName="corp2", EncodedSAMLMetadataDocument="{saml}"),
    ims("UpdateSAMLProvider", **SAML, NewDescription="d"),
    ims("DeleteSAMLProvider", SAMLProviderName="spare-saml"),
    ims("SetUserSsoSettings", None, AuxiliaryDomain="corp.example.org"),
    # Roles are reachable across accounts by design (the trust policy decides): refused, not hidden.
    Case(STS, "AssumeRole", {"RoleArn": "{rolearn}", "RoleSessionName": "matrix"}, 403),
]

READS = [
    ram("GetUser", UserName="bob"),
    ram("ListUsers", None),
    ram("GetLoginProfile", UserName="bob"),
    ram("ListAccessKeys", UserName="bob"),
    ram("GetAccessKeyLastUsed", UserName="bob", UserAccessKeyId="{bobkey}"),
    ram("GetGroup", GroupName="g1"),
    ram("ListGroups", None),
    ram("ListGroupsForUser", UserName="carol"),
    ram("ListUsersForGroup", GroupName="g1"),
    ram("GetPolicy", **P1),
    ram("ListPolicies", None),
    ram("GetPolicyVersion", **P1, VersionId="v1"),
    ram("ListPolicyVersions", **P1),
    ram("ListEntitiesForPolicy", **P1),
    ram("ListPoliciesForUser", UserName="carol"),
    ram("ListPoliciesForGroup", GroupName="g1"),
    ram("ListPoliciesForRole", **ROLE),
    ram("GetRole", **ROLE),
    ram("ListRoles", None),
    ram("GetPasswordPolicy", None),
    ram("GetSecurityPreference", None),
    ram("GetAccountAlias", None),
    ram("ListVirtualMFADevices", None),
    ram("GetUserMFAInfo", UserName="carol"),
    ims("GetOIDCProvider", **OIDC),
    ims("ListOIDCProviders", None),
    ims("GetSAMLProvider", **SAML),
    ims("ListSAMLProviders", None),
    ims("GetUserSsoSettings", None),
]

# Any signed caller may call these for itself, without a policy (Alibaba does the same).
SELF_SERVICE = [
    ram(
        "ChangePassword",
        None,
        OldPassword=PASSWORD,
        NewPassword="another long passphrase 77",
    ),
    Case(STS, "GetCallerIdentity", {}, None),
]


# Called without a signature: the token or assertion is the credential.
ANONYMOUS = [
    Case(
        STS,
        "AssumeRoleWithOIDC",
        {
            "OIDCProviderArn": "{oidcarn}",
            "RoleArn": "{fedrolearn}",
            "OIDCToken": "{oidctoken}",
            "RoleSessionName": "matrix",
        },
    ),
    Case(
        STS,
        "AssumeRoleWithSAML",
        {"SAMLProviderArn": "{samlarn}", "RoleArn": "{fedrolearn}", "SAMLAssertion": "{forged}"},
    ),
]


def test_every_registered_action_is_classified():
    assert {case.key for case in ANONYMOUS} == registry.ANONYMOUS
    classified = [case.key for case in MUTATIONS + READS + SELF_SERVICE]
    assert len(classified) == len(set(classified)), "an action is classified twice"
    signed = set(registry.registered()) - registry.ANONYMOUS
    assert signed - set(classified) == set(), "classify the new action(s) in MUTATIONS or READS"
    assert set(classified) - signed == set(), "a classified action is not registered"
    assert not set(classified) & registry.ANONYMOUS


@cache
def oidc_idp() -> TestIdp:
    return TestIdp()  # an RSA key pair: made once, the world is built for every case


@cache
def saml_metadata() -> str:
    return TestSamlIdp().metadata


@pytest.fixture
def world(tenant, other_tenant, api_for):
    root = tenant.root_principal
    uid = tenant.account.uid
    admin = tenant.make_user("api-admin", "AdministratorAccess", console=False)
    plain = tenant.make_user("api-plain", console=False)
    outsider = other_tenant.make_user("api-intruder", "AdministratorAccess", console=False)
    bob = tenant.make_user("bob")
    erin = tenant.make_user("erin")  # no policy: self-service only
    for user in (admin, plain, outsider, bob, erin):
        User.objects.filter(pk=user.pk).update(programmatic_access=True)
    tenant.make_user("dave", console=False)
    carol = tenant.make_user("carol")
    bob_key, _ = access_key_create(actor=root, user=User.objects.get(pk=bob.pk))
    group = group_create(actor=root, name="g1")
    group_create(actor=root, name="empty")
    group_add_user(actor=root, group=group, user=carol)
    policy_attach(actor=root, policy=system_policy("AliyunRAMReadOnlyAccess"), group=group)
    p1 = policy_create(actor=root, name="P1", document=DOC)
    policy_version_create(actor=root, policy=p1, document=DOC)
    policy_attach(actor=root, policy=p1, user=carol)
    policy_create(actor=root, name="Spare", document=DOC)
    spare, seed, _ = device_create(actor=root, name="spare-mfa")
    record_console_enrollment(carol, TOTPDevice.objects.create(user=carol, confirmed=True))
    trust = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
        f'"Principal":{{"RAM":["acs:ram::{uid}:root"]}}}}]}}'
    )
    role = role_create(actor=root, name="ops-role", trust_policy=trust)
    role_create(actor=root, name="spare-role", trust_policy=trust)
    policy_attach(actor=root, policy=p1, role=role)
    corp = saml_provider_create(actor=root, name="corp", metadata=saml_metadata())
    saml_provider_create(actor=root, name="spare-saml", metadata=saml_metadata())
    idp = oidc_idp()
    oidc = {
        name: oidc_provider_create(
            actor=root,
            name=name,
            issuer_url=ISSUER,
            fingerprints=FINGERPRINT,
            client_ids=CLIENT_ID,
            jwks=idp.jwks,
        )
        for name in ("k8s", "spare-oidc")
    }
    federated = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Federated": [oidc["k8s"].arn, corp.arn]},
            }
        ],
    }
    fed_role = role_create(actor=root, name="fed-role", trust_policy=json.dumps(federated))
    return {
        "tenant": tenant,
        "idp": idp,
        "other_tenant": other_tenant,
        "values": {
            "oidcarn": oidc["k8s"].arn,
            "samlarn": corp.arn,
            "fedrolearn": fed_role.arn,
            "spare": spare.serial_number,
            "seed": seed,
            "bobkey": bob_key.access_key_id,
            "trust": trust,
            "rolearn": role.arn,
            "saml": base64.b64encode(saml_metadata().encode()).decode(),
        },
        "admin": api_for(admin),
        "plain": api_for(plain),
        "erin": api_for(erin),
        "outsider": api_for(outsider),
    }


def fill(params: dict[str, str], world, **extra: str) -> dict[str, str]:
    """The case's parameters with {placeholders} replaced by the world's (or `extra`) values."""
    values = dict(world["values"])
    totp = pyotp.TOTP(values.pop("seed"))
    now = time.time()
    values.update(code1=totp.at(now - 30), code2=totp.at(now), **extra)
    filled = {}
    for name, value in params.items():
        for placeholder, real in values.items():
            value = value.replace("{" + placeholder + "}", real)
        filled[name] = value
    return filled


def state(world) -> tuple:
    """Everything an API action can change in the tenant's account."""
    account = world["tenant"].account
    keys = tuple(
        AccessKey.objects.filter(user__account=account)
        .order_by("pk")
        .values_list("access_key_id", "status")
    )
    preference = tuple(SecurityPreference.objects.filter(account=account).values_list())
    devices = tuple(
        VirtualMFADevice.objects.filter(account=account)
        .order_by("pk")
        .values_list("name", "user_id")
    )
    totps = TOTPDevice.objects.filter(user__account=account).count()
    providers = (
        tuple(
            OIDCProvider.objects.filter(account=account)
            .order_by("pk")
            .values_list("name", "client_ids", "fingerprints", "description")
        ),
        tuple(
            SAMLProvider.objects.filter(account=account)
            .order_by("pk")
            .values_list("name", "description", "metadata")
        ),
    )
    return snapshot(world["tenant"]), keys, preference, devices, totps, providers


def call(api, case: Case, world):
    return api.v3(case.action, version=case.version, **fill(case.params, world))


def unsigned(case: Case, world):
    query = urlencode({"Action": case.action, "Version": case.version, **fill(case.params, world)})
    return Client().post("/?" + query)


def event_name(case: Case) -> str:
    return f"{registry.product(case.version)}:{case.action}"


def refused_by_other_account(response, case: Case) -> None:
    if case.outsider == NOT_FOUND:
        assert response.status_code == 404, response.json()
        assert response.json()["Code"].startswith("EntityNotExist")
    elif case.outsider is not None:
        assert response.status_code == case.outsider, response.json()


def refused_for_lack_of_permission(response) -> None:
    assert response.status_code == 403, response.json()
    body = response.json()
    assert body["Code"] == "NoPermission" and body["RequestId"]
    assert AuditEvent.objects.filter(outcome="denied", request_id=body["RequestId"]).exists()


@pytest.mark.parametrize("case", MUTATIONS, ids=str)
def test_unsigned_other_account_and_unpermitted_callers_change_nothing(world, case):
    before = state(world)
    response = unsigned(case, world)
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"
    assert state(world) == before
    refused_by_other_account(call(world["outsider"], case, world), case)
    assert state(world) == before
    refused_for_lack_of_permission(call(world["plain"], case, world))
    assert state(world) == before


@pytest.mark.parametrize("case", MUTATIONS, ids=str)
def test_permitted_key_succeeds_with_one_audit_event(world, case):
    before = state(world)
    api = world["admin"]
    response = call(api, case, world)
    assert response.status_code == 200, response.json()
    request_id = response.json()["RequestId"]
    assert state(world) != before
    events = AuditEvent.objects.filter(request_id=request_id)
    assert [e.action for e in events] == [event_name(case)]
    event = events.get()
    assert event.outcome == "success" and event.credential == api.key_id
    assert event.account_id == world["tenant"].account.pk


@pytest.mark.parametrize("case", SELF_SERVICE, ids=str)
def test_self_service_needs_a_signature_and_no_policy(world, case):
    before = state(world)
    assert unsigned(case, world).json()["Code"] == "IncompleteSignature"
    assert state(world) == before
    response = call(world["erin"], case, world)
    assert response.status_code == 200, response.json()
    events = AuditEvent.objects.filter(request_id=response.json()["RequestId"])
    assert [(e.action, e.outcome) for e in events] == [(event_name(case), "success")]


@pytest.mark.parametrize("case", SELF_SERVICE, ids=str)
def test_self_service_acts_on_the_caller_alone(world, case):
    before = state(world)
    response = call(world["outsider"], case, world)
    assert response.status_code < 500
    assert world["tenant"].account.uid not in response.content.decode()
    assert state(world) == before


def anonymous(case: Case, world, **values: str):
    query = {"Action": case.action, "Version": case.version, **fill(case.params, world, **values)}
    return Client().post("/?" + urlencode(query))


@pytest.mark.parametrize("case", ANONYMOUS, ids=str)
def test_anonymous_action_refuses_a_forged_credential(world, case):
    forged = base64.b64encode(b"<samlp:Response>forged</samlp:Response>").decode()
    before = state(world)
    response = anonymous(case, world, oidctoken="e30.e30.forged", forged=forged)
    assert 400 <= response.status_code < 500, response.json()
    assert state(world) == before
    events = AuditEvent.objects.filter(request_id=response.json()["RequestId"])
    assert [e.action for e in events] == [event_name(case)]
    assert events.get().outcome in ("denied", "error")


def test_a_token_of_another_accounts_provider_cannot_assume_this_accounts_role(world):
    theirs = oidc_provider_create(
        actor=world["other_tenant"].root_principal,
        name="k8s",
        issuer_url=ISSUER,
        client_ids=CLIENT_ID,
        jwks=world["idp"].jwks,
    )
    case = ANONYMOUS[0]
    before = state(world)
    response = anonymous(case, world, oidcarn=theirs.arn, oidctoken=world["idp"].token())
    assert response.status_code in (403, 404), response.json()
    assert state(world) == before
    # The same exchange through this account's provider, which the role trusts, succeeds.
    response = anonymous(case, world, oidctoken=world["idp"].token())
    assert response.status_code == 200, response.json()
