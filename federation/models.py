"""Identity providers an account trusts: OIDC providers (for AssumeRoleWithOIDC) and SAML
providers (for AssumeRoleWithSAML and role SSO), with Alibaba's ARNs."""

from django.db import models
from django.db.models.functions import Lower

from accounts.models import Account


class OIDCProvider(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="oidc_providers")
    name = models.CharField(max_length=128)
    issuer_url = models.CharField(max_length=255)
    client_ids = models.TextField(blank=True)  # comma-separated audiences
    fingerprints = models.TextField(blank=True)  # comma-separated TLS certificate SHA-1s
    # The provider's signing keys (a JWKS document, public keys only): uploaded, since this
    # server may not reach the provider.
    jwks = models.TextField(blank=True)
    issuance_limit_hours = models.PositiveSmallIntegerField(default=12)
    description = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="uniq_oidc_provider_name"),
        ]

    def __str__(self) -> str:
        return self.arn

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account.uid}:oidc-provider/{self.name}"

    @property
    def resource_arn(self) -> str:
        return f"acs:ram:*:{self.account.uid}:oidc-provider/{self.name}"

    @property
    def client_id_list(self) -> list[str]:
        return [c for c in self.client_ids.split(",") if c]

    @property
    def fingerprint_list(self) -> list[str]:
        return [f for f in self.fingerprints.split(",") if f]


class SAMLProvider(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="saml_providers")
    name = models.CharField(max_length=128)
    metadata = models.TextField()  # the IdP's SAML metadata XML
    entity_id = models.CharField(max_length=1024, blank=True)  # read from the metadata
    description = models.CharField(max_length=256, blank=True)
    authn_sign_algo = models.CharField(max_length=16, default="rsa-sha256")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="uniq_saml_provider_name"),
        ]

    def __str__(self) -> str:
        return self.arn

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account.uid}:saml-provider/{self.name}"

    @property
    def resource_arn(self) -> str:
        return f"acs:ram:*:{self.account.uid}:saml-provider/{self.name}"


class UserSsoSettings(models.Model):
    """User SSO of an account: RAM users sign in to the console through the account's SAML
    identity provider (IMS Get/SetUserSsoSettings)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="user_sso")
    enabled = models.BooleanField(default=False)
    metadata = models.TextField(blank=True)  # the IdP's SAML metadata XML
    idp_entity_id = models.CharField(max_length=1024, blank=True)
    # Where the login name comes from: "" = the NameID, else an attribute name.
    login_attribute = models.CharField(max_length=256, blank=True)
    # A domain accepted after "@" besides the account's logon domains (e.g. corp.example).
    auxiliary_domain = models.CharField(max_length=128, blank=True)
    provisioning = models.BooleanField(default=False)  # create unknown users at first sign-in
    password_login_disabled = models.BooleanField(default=False)  # root keeps its password
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"user SSO of {self.account_id}"


class ServiceProviderKey(models.Model):
    """This installation's SAML service-provider key pair (one row): it signs AuthnRequests and
    its certificate is published in the SP metadata. The private key is sealed at rest."""

    cert_pem = models.TextField()
    key_sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"SAML SP key {self.pk}"
