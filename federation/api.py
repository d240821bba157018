"""IMS (2019-08-15) identity-provider actions and STS AssumeRoleWithOIDC / AssumeRoleWithSAML.

Extension: CreateOIDCProvider/UpdateOIDCProvider accept `JWKS` (the provider's public signing
keys as a JWKS document), since this server may not be able to reach the provider.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from accounts.errors import InvalidParameter
from federation import services
from federation.models import OIDCProvider, SAMLProvider
from federation.oidc import assume_role_with_oidc
from federation.saml_sts import assume_role_with_saml
from openapi.params import iso, page
from openapi.registry import IMS, STS, ApiCall, action
from policies.guards import require


def oidc_json(provider: OIDCProvider) -> dict[str, Any]:
    return {
        "OIDCProviderName": provider.name,
        "Arn": provider.arn,
        "IssuerUrl": provider.issuer_url,
        "Fingerprints": provider.fingerprints,
        "ClientIds": provider.client_ids,
        "IssuanceLimitTime": provider.issuance_limit_hours,
        "Description": provider.description,
        "CreateDate": iso(provider.created_at),
        "UpdateDate": iso(provider.updated_at),
        "GmtCreate": iso(provider.created_at),
        "GmtModified": iso(provider.updated_at),
    }


def _provider(call: ApiCall, action_name: str = "ram:GetOIDCProvider") -> OIDCProvider:
    return services.oidc_provider_for_actor(
        call.principal, call.params.text("OIDCProviderName", required=True), action_name
    )


@action(IMS, "CreateOIDCProvider")
def create_oidc_provider(call: ApiCall) -> dict[str, Any]:
    provider = services.oidc_provider_create(
        actor=call.principal,
        name=call.params.text("OIDCProviderName", required=True),
        issuer_url=call.params.text("IssuerUrl", required=True),
        fingerprints=call.params.text("Fingerprints"),
        client_ids=call.params.text("ClientIds"),
        jwks=call.params.text("JWKS"),
        issuance_limit_hours=call.params.number("IssuanceLimitTime", default=12, low=1, high=168)
        or 12,
        description=call.params.text("Description"),
    )
    return {"OIDCProvider": oidc_json(provider)}


@action(IMS, "GetOIDCProvider")
def get_oidc_provider(call: ApiCall) -> dict[str, Any]:
    return {"OIDCProvider": oidc_json(_provider(call))}


@action(IMS, "UpdateOIDCProvider")
def update_oidc_provider(call: ApiCall) -> dict[str, Any]:
    ids = call.params.optional("ClientIds")
    provider = services.oidc_provider_update(
        actor=call.principal,
        provider=_provider(call, "ram:UpdateOIDCProvider"),
        client_ids=ids.split(",") if ids is not None else None,
        jwks=call.params.optional("JWKS"),
        issuance_limit_hours=call.params.number("IssuanceLimitTime", low=1, high=168),
        description=call.params.optional("NewDescription"),
    )
    return {"OIDCProvider": oidc_json(provider)}


@action(IMS, "DeleteOIDCProvider")
def delete_oidc_provider(call: ApiCall) -> dict[str, Any]:
    services.oidc_provider_delete(
        actor=call.principal, provider=_provider(call, "ram:DeleteOIDCProvider")
    )
    return {}


@action(IMS, "ListOIDCProviders")
def list_oidc_providers(call: ApiCall) -> dict[str, Any]:
    require(
        call.principal,
        "ram:ListOIDCProviders",
        f"acs:ram:*:{call.principal.account_uid}:oidc-provider/*",
    )
    providers = OIDCProvider.objects.filter(account_id=call.principal.account_id).select_related(
        "account"
    )
    items, info = page(call.params, providers, "name", max_limit=100)
    return {**info, "OIDCProviders": {"OIDCProvider": [oidc_json(p) for p in items]}}


def _edit_list(call: ApiCall, field: str, param: str, api: str, add: bool) -> dict[str, Any]:
    provider = _provider(call, f"ram:{api}")
    value = call.params.text(param, required=True).strip()
    current = getattr(provider, f"{field}_list")
    if add:
        if value.lower() in (c.lower() for c in current):
            from accounts.errors import Conflict

            raise Conflict(
                f"EntityAlreadyExists.OIDCProvider.{param}", f"The {param} is already there."
            )
        updated = [*current, value]
    else:
        if value not in current:
            from accounts.errors import NotFound

            raise NotFound(f"EntityNotExist.OIDCProvider.{param}", f"There is no such {param}.")
        updated = [c for c in current if c != value]
    provider = services.oidc_provider_update(
        actor=call.principal,
        provider=provider,
        action=f"ram:{api}",
        client_ids=updated if field == "client_id" else None,
        fingerprints=updated if field == "fingerprint" else None,
    )
    return {"OIDCProvider": oidc_json(provider)}


@action(IMS, "AddClientIdToOIDCProvider")
def add_client_id(call: ApiCall) -> dict[str, Any]:
    return _edit_list(call, "client_id", "ClientId", "AddClientIdToOIDCProvider", add=True)


@action(IMS, "RemoveClientIdFromOIDCProvider")
def remove_client_id(call: ApiCall) -> dict[str, Any]:
    return _edit_list(call, "client_id", "ClientId", "RemoveClientIdFromOIDCProvider", add=False)


@action(IMS, "AddFingerprintToOIDCProvider")
def add_fingerprint(call: ApiCall) -> dict[str, Any]:
    return _edit_list(call, "fingerprint", "Fingerprint", "AddFingerprintToOIDCProvider", add=True)


@action(IMS, "RemoveFingerprintFromOIDCProvider")
def remove_fingerprint(call: ApiCall) -> dict[str, Any]:
    return _edit_list(
        call, "fingerprint", "Fingerprint", "RemoveFingerprintFromOIDCProvider", add=False
    )


def credentials_json(creds: Any) -> dict[str, Any]:
    session = creds.session
    return {
        "AssumedRoleUser": {
            "Arn": session.arn,
            "AssumedRoleId": f"{session.role.role_id}:{session.session_name}",
        },
        "Credentials": {
            "AccessKeyId": session.access_key_id,
            "AccessKeySecret": creds.secret,
            "SecurityToken": creds.token,
            "Expiration": iso(session.expires_at),
        },
        "SourceIdentity": "",
    }


@action(STS, "AssumeRoleWithOIDC")
def assume_role_with_oidc_action(call: ApiCall) -> dict[str, Any]:
    creds, identity = assume_role_with_oidc(
        provider_arn=call.params.text("OIDCProviderArn", required=True),
        role_arn=call.params.text("RoleArn", required=True),
        token=call.params.text("OIDCToken", required=True),
        session_name=call.params.text("RoleSessionName"),
        policy=call.params.text("Policy"),
        duration=call.params.number("DurationSeconds", low=1, high=10**6),
        meta=call.principal.meta,
    )
    return {
        **credentials_json(creds),
        "OIDCTokenInfo": {
            "Subject": identity.subject,
            "Issuer": identity.issuer,
            "ClientIds": ",".join(identity.audiences),
            "IssuanceTime": iso(identity.issued_at),
            "ExpirationTime": iso(identity.expires_at),
            "VerificationInfo": "Success",
        },
    }


def saml_json(provider: SAMLProvider, *, document: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "SAMLProviderName": provider.name,
        "Arn": provider.arn,
        "Description": provider.description,
        "AuthnSignAlgo": provider.authn_sign_algo,
        "CreateDate": iso(provider.created_at),
        "UpdateDate": iso(provider.updated_at),
    }
    if document:
        body["EncodedSAMLMetadataDocument"] = base64.b64encode(provider.metadata.encode()).decode()
    return body


def _metadata_param(call: ApiCall, name: str, required: bool) -> str | None:
    encoded = call.params.text(name, required=required) if required else call.params.optional(name)
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"InvalidParameter.{name}", f"{name} must be Base64 XML.") from exc


def _saml_provider(call: ApiCall, action_name: str = "ram:GetSAMLProvider") -> SAMLProvider:
    return services.saml_provider_for_actor(
        call.principal, call.params.text("SAMLProviderName", required=True), action_name
    )


@action(IMS, "CreateSAMLProvider")
def create_saml_provider(call: ApiCall) -> dict[str, Any]:
    provider = services.saml_provider_create(
        actor=call.principal,
        name=call.params.text("SAMLProviderName", required=True),
        metadata=_metadata_param(call, "EncodedSAMLMetadataDocument", True) or "",
        description=call.params.text("Description"),
        authn_sign_algo=call.params.text("AuthnSignAlgo") or "rsa-sha256",
    )
    return {"SAMLProvider": saml_json(provider)}


@action(IMS, "GetSAMLProvider")
def get_saml_provider(call: ApiCall) -> dict[str, Any]:
    return {"SAMLProvider": saml_json(_saml_provider(call), document=True)}


@action(IMS, "UpdateSAMLProvider")
def update_saml_provider(call: ApiCall) -> dict[str, Any]:
    provider = services.saml_provider_update(
        actor=call.principal,
        provider=_saml_provider(call, "ram:UpdateSAMLProvider"),
        metadata=_metadata_param(call, "NewEncodedSAMLMetadataDocument", False),
        description=call.params.optional("NewDescription"),
        authn_sign_algo=call.params.optional("AuthnSignAlgo") or None,
    )
    return {"SAMLProvider": saml_json(provider)}


@action(IMS, "DeleteSAMLProvider")
def delete_saml_provider(call: ApiCall) -> dict[str, Any]:
    services.saml_provider_delete(
        actor=call.principal, provider=_saml_provider(call, "ram:DeleteSAMLProvider")
    )
    return {}


@action(IMS, "ListSAMLProviders")
def list_saml_providers(call: ApiCall) -> dict[str, Any]:
    require(
        call.principal,
        "ram:ListSAMLProviders",
        f"acs:ram:*:{call.principal.account_uid}:saml-provider/*",
    )
    providers = SAMLProvider.objects.filter(account_id=call.principal.account_id).select_related(
        "account"
    )
    items, info = page(call.params, providers, "name", max_limit=100)
    return {**info, "SAMLProviders": {"SAMLProvider": [saml_json(p) for p in items]}}


@action(STS, "AssumeRoleWithSAML")
def assume_role_with_saml_action(call: ApiCall) -> dict[str, Any]:
    creds, identity = assume_role_with_saml(
        provider_arn=call.params.text("SAMLProviderArn", required=True),
        role_arn=call.params.text("RoleArn", required=True),
        assertion=call.params.text("SAMLAssertion", required=True),
        policy=call.params.text("Policy"),
        duration=call.params.number("DurationSeconds", low=1, high=10**6),
        meta=call.principal.meta,
    )
    return {
        **credentials_json(creds),
        "SAMLAssertionInfo": {
            "SubjectType": identity.subject_type,
            "Subject": identity.subject,
            "Recipient": identity.recipient,
            "Issuer": identity.issuer,
        },
    }


def _sso_json(sso: Any) -> dict[str, Any]:
    return {
        "SsoEnabled": sso.enabled,
        "MetadataDocument": base64.b64encode(sso.metadata.encode()).decode()
        if sso.metadata
        else "",
        "AuxiliaryDomain": sso.auxiliary_domain,
        "SsoLoginWithDomain": bool(sso.auxiliary_domain),
        "AuthnSignAlgo": "rsa-sha256",
        # Extensions: where the login name comes from, provisioning, password sign-in.
        "LoginAttribute": sso.login_attribute,
        "Provisioning": sso.provisioning,
        "PasswordLoginDisabled": sso.password_login_disabled,
    }


@action(IMS, "GetUserSsoSettings")
def get_user_sso_settings(call: ApiCall) -> dict[str, Any]:
    from federation.user_sso import sso_settings_of

    require(call.principal, "ram:GetUserSsoSettings", f"acs:ram:*:{call.principal.account_uid}:*")
    return {"UserSsoSettings": _sso_json(sso_settings_of(call.principal.account_id))}


@action(IMS, "SetUserSsoSettings")
def set_user_sso_settings(call: ApiCall) -> dict[str, Any]:
    from federation.user_sso import user_sso_set

    sso = user_sso_set(
        actor=call.principal,
        enabled=call.params.flag("SsoEnabled"),
        metadata=_metadata_param(call, "MetadataDocument", False),
        auxiliary_domain=call.params.optional("AuxiliaryDomain"),
        login_attribute=call.params.optional("LoginAttribute"),
        provisioning=call.params.flag("Provisioning"),
        password_login_disabled=call.params.flag("PasswordLoginDisabled"),
    )
    return {"UserSsoSettings": _sso_json(sso)}
