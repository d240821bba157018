"""IMS (2019-08-15) OIDC provider actions: CRUD through a signed key, permission and account
isolation, validation of issuer, fingerprints and JWKS."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from audit.models import AuditEvent
from federation.models import OIDCProvider
from tests.federation.oidc_idp import CLIENT_ID, ISSUER, TestIdp

pytestmark = pytest.mark.django_db
IMS = "2019-08-15"
FP = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"


@pytest.fixture
def keys(tenant, other_tenant, api_for):
    users = {
        "admin": tenant.make_user("idp-admin", "AdministratorAccess", console=False),
        "plain": tenant.make_user("idp-plain", "ReadOnlyAccess", console=False),
        "outsider": other_tenant.make_user("idp-out", "AdministratorAccess", console=False),
    }
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(programmatic_access=True)
    return {name: api_for(user) for name, user in users.items()}


def test_oidc_provider_lifecycle(keys, tenant):
    api = keys["admin"]
    jwks = TestIdp().jwks
    created = api.v3(
        "CreateOIDCProvider",
        IMS,
        OIDCProviderName="k8s",
        IssuerUrl=ISSUER,
        ClientIds=CLIENT_ID,
        Fingerprints=FP,
        JWKS=jwks,
        IssuanceLimitTime=6,
        Description="cluster one",
    )
    assert created.status_code == 200, created.json()
    body = created.json()["OIDCProvider"]
    assert body["Arn"] == f"acs:ram::{tenant.account.uid}:oidc-provider/k8s"
    assert (body["IssuerUrl"], body["ClientIds"], body["IssuanceLimitTime"]) == (
        ISSUER,
        CLIENT_ID,
        6,
    )
    assert (
        api.v3("GetOIDCProvider", IMS, OIDCProviderName="K8S").json()["OIDCProvider"]["Arn"]
        == body["Arn"]
    )
    listed = api.v3("ListOIDCProviders", IMS).json()
    assert [p["OIDCProviderName"] for p in listed["OIDCProviders"]["OIDCProvider"]] == ["k8s"]
    added = api.v3("AddClientIdToOIDCProvider", IMS, OIDCProviderName="k8s", ClientId="second")
    assert added.json()["OIDCProvider"]["ClientIds"] == f"{CLIENT_ID},second"
    again = api.v3("AddClientIdToOIDCProvider", IMS, OIDCProviderName="k8s", ClientId="second")
    assert again.status_code == 409
    removed = api.v3(
        "RemoveClientIdFromOIDCProvider", IMS, OIDCProviderName="k8s", ClientId="second"
    )
    assert removed.json()["OIDCProvider"]["ClientIds"] == CLIENT_ID
    fp2 = "a" * 40
    assert (
        api.v3(
            "AddFingerprintToOIDCProvider", IMS, OIDCProviderName="k8s", Fingerprint=fp2
        ).status_code
        == 200
    )
    assert (
        api.v3(
            "RemoveFingerprintFromOIDCProvider", IMS, OIDCProviderName="k8s", Fingerprint=FP
        ).status_code
        == 200
    )
    assert OIDCProvider.objects.get().fingerprints == fp2
    updated = api.v3(
        "UpdateOIDCProvider",
        IMS,
        OIDCProviderName="k8s",
        NewDescription="renamed",
        IssuanceLimitTime=24,
    )
    assert updated.json()["OIDCProvider"]["Description"] == "renamed"
    assert api.v3("DeleteOIDCProvider", IMS, OIDCProviderName="k8s").status_code == 200
    assert (
        api.v3("GetOIDCProvider", IMS, OIDCProviderName="k8s").json()["Code"]
        == "EntityNotExist.OIDCProvider"
    )
    actions = list(
        AuditEvent.objects.filter(action__contains="OIDCProvider", outcome="success").values_list(
            "action", flat=True
        )
    )
    assert "ram:CreateOIDCProvider" in actions and "ram:DeleteOIDCProvider" in actions
    assert "ram:AddClientIdToOIDCProvider" in actions


def test_without_permission_and_across_accounts(keys, tenant):
    keys["admin"].v3(
        "CreateOIDCProvider", IMS, OIDCProviderName="k8s", IssuerUrl=ISSUER, Fingerprints=FP
    )
    refused = keys["plain"].v3("DeleteOIDCProvider", IMS, OIDCProviderName="k8s")
    assert (refused.status_code, refused.json()["Code"]) == (403, "NoPermission")
    assert keys["plain"].v3("GetOIDCProvider", IMS, OIDCProviderName="k8s").status_code == 200
    foreign = keys["outsider"].v3("DeleteOIDCProvider", IMS, OIDCProviderName="k8s")
    assert foreign.json()["Code"] == "EntityNotExist.OIDCProvider"
    assert (
        keys["outsider"].v3("ListOIDCProviders", IMS).json()["OIDCProviders"]["OIDCProvider"] == []
    )
    assert OIDCProvider.objects.count() == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"IssuerUrl": "http://plain.example", "Fingerprints": FP}, "InvalidParameter.IssuerUrl"),
        ({"IssuerUrl": ISSUER, "Fingerprints": "zz"}, "InvalidParameter.Fingerprints"),
        ({"IssuerUrl": ISSUER}, "MissingParameter.Fingerprints"),
        ({"IssuerUrl": ISSUER, "JWKS": "{}"}, "InvalidParameter.JWKS"),
        ({"IssuerUrl": ISSUER, "JWKS": "not json"}, "InvalidParameter.JWKS"),
        (
            {"IssuerUrl": ISSUER, "IssuanceLimitTime": "500", "Fingerprints": FP},
            "InvalidParameter.IssuanceLimitTime",
        ),
    ],
)
def test_validation(keys, params, code):
    response = keys["admin"].v3("CreateOIDCProvider", IMS, OIDCProviderName="k8s", **params)
    assert response.status_code == 400 and response.json()["Code"] == code, response.json()
    assert not OIDCProvider.objects.exists()


def test_private_keys_are_refused(keys):
    private = json.dumps(TestIdp().keys.as_dict(private=True))
    response = keys["admin"].v3(
        "CreateOIDCProvider", IMS, OIDCProviderName="k8s", IssuerUrl=ISSUER, JWKS=private
    )
    assert response.json()["Code"] == "InvalidParameter.JWKS"
    assert "private" in response.json()["Message"]


def test_bad_names_and_duplicates(keys):
    api = keys["admin"]
    assert (
        api.v3(
            "CreateOIDCProvider", IMS, OIDCProviderName="-bad", IssuerUrl=ISSUER, Fingerprints=FP
        ).json()["Code"]
        == "InvalidParameter.OIDCProviderName"
    )
    api.v3("CreateOIDCProvider", IMS, OIDCProviderName="k8s", IssuerUrl=ISSUER, Fingerprints=FP)
    dup = api.v3(
        "CreateOIDCProvider", IMS, OIDCProviderName="K8s", IssuerUrl=ISSUER, Fingerprints=FP
    )
    assert (dup.status_code, dup.json()["Code"]) == (409, "EntityAlreadyExists.OIDCProvider")


def test_saml_provider_lifecycle(keys, tenant):
    import base64

    from tests.federation.saml_idp import TestSamlIdp

    api = keys["admin"]
    idp = TestSamlIdp()
    encoded = base64.b64encode(idp.metadata.encode()).decode()
    created = api.v3(
        "CreateSAMLProvider", IMS, SAMLProviderName="corp", EncodedSAMLMetadataDocument=encoded
    )
    assert created.status_code == 200, created.json()
    assert (
        created.json()["SAMLProvider"]["Arn"] == f"acs:ram::{tenant.account.uid}:saml-provider/corp"
    )
    got = api.v3("GetSAMLProvider", IMS, SAMLProviderName="corp").json()["SAMLProvider"]
    assert base64.b64decode(got["EncodedSAMLMetadataDocument"]).decode() == idp.metadata
    listed = api.v3("ListSAMLProviders", IMS).json()["SAMLProviders"]["SAMLProvider"]
    assert [p["SAMLProviderName"] for p in listed] == ["corp"]
    replacement = base64.b64encode(
        TestSamlIdp("https://idp2.example.test/md").metadata.encode()
    ).decode()
    updated = api.v3(
        "UpdateSAMLProvider",
        IMS,
        SAMLProviderName="corp",
        NewEncodedSAMLMetadataDocument=replacement,
        NewDescription="moved",
    )
    assert updated.json()["SAMLProvider"]["Description"] == "moved"
    assert keys["plain"].v3("DeleteSAMLProvider", IMS, SAMLProviderName="corp").status_code == 403
    assert (
        keys["outsider"].v3("DeleteSAMLProvider", IMS, SAMLProviderName="corp").status_code == 404
    )
    assert api.v3("DeleteSAMLProvider", IMS, SAMLProviderName="corp").status_code == 200


@pytest.mark.parametrize(
    "document",
    ["not base64!", "PHg+PC94Pg==", "PG1kOkVudGl0eURlc2NyaXB0b3IvPg=="],
    ids=["not-base64", "not-metadata", "empty-entity"],
)
def test_bad_saml_metadata_is_refused(keys, document):
    response = keys["admin"].v3(
        "CreateSAMLProvider", IMS, SAMLProviderName="corp", EncodedSAMLMetadataDocument=document
    )
    assert response.status_code == 400
    assert response.json()["Code"].startswith("InvalidParameter.EncodedSAMLMetadataDocument")


def test_user_sso_settings_through_the_api(keys, tenant):
    import base64

    from tests.federation.saml_idp import TestSamlIdp

    api = keys["admin"]
    assert api.v3("GetUserSsoSettings", IMS).json()["UserSsoSettings"]["SsoEnabled"] is False
    refused = api.v3("SetUserSsoSettings", IMS, SsoEnabled="true")
    assert refused.json()["Code"] == "MissingMetadataDocument"
    metadata = base64.b64encode(TestSamlIdp().metadata.encode()).decode()
    done = api.v3(
        "SetUserSsoSettings",
        IMS,
        SsoEnabled="true",
        MetadataDocument=metadata,
        AuxiliaryDomain="corp.example",
        PasswordLoginDisabled="true",
    ).json()["UserSsoSettings"]
    assert done["SsoEnabled"] is True and done["AuxiliaryDomain"] == "corp.example"
    assert done["PasswordLoginDisabled"] is True
    assert keys["plain"].v3("SetUserSsoSettings", IMS, SsoEnabled="false").status_code == 403
    assert keys["plain"].v3("GetUserSsoSettings", IMS).status_code == 200  # ReadOnlyAccess
    assert (
        keys["outsider"].v3("GetUserSsoSettings", IMS).json()["UserSsoSettings"]["SsoEnabled"]
        is False
    )


def test_without_xmlsec1_saml_pages_say_so_instead_of_failing(tenant, monkeypatch, settings):
    from django.test import Client

    from federation.saml import xmlsec_binary

    settings.IAM_SAML_XMLSEC = ""
    xmlsec_binary.cache_clear()
    monkeypatch.setattr("shutil.which", lambda name: None)
    try:
        response = Client().get("/console/sso/saml-role/metadata")
        assert response.status_code == 503 and b"apt-get install xmlsec1" in response.content
        acs = Client().post("/console/sso/saml-role", {"SAMLResponse": "PHg+PC94Pg=="})
        assert acs.status_code < 500 or b"xmlsec1" in acs.content
    finally:
        xmlsec_binary.cache_clear()
