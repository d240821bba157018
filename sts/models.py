"""STS sessions: the result of one AssumeRole, enforced at every use."""

from __future__ import annotations

from django.db import models

from accounts.models import Account
from roles.models import Role


class StsSession(models.Model):
    access_key_id = models.CharField(max_length=40, unique=True)  # "STS." + random
    secret_sealed = models.CharField(max_length=256)  # accounts.crypto; needed for HMAC checks
    token_digest = models.CharField(max_length=64)  # keyed SHA-256 of the SecurityToken
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sts_sessions")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="sessions")
    session_name = models.CharField(max_length=64)
    session_policy = models.TextField(blank=True)
    source_arn = models.CharField(max_length=512)  # who assumed the role
    source_account_uid = models.CharField(max_length=16)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    chained = models.BooleanField(default=False)  # assumed by another role session
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Set by the worker once the session has expired (enforcement never waits for it).
    expired_marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["role", "-created_at"]),
            models.Index(fields=["expired_marked_at", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.role_id}/{self.session_name}"

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account.uid}:role/{self.role.name}/{self.session_name}"


class TrustedService(models.Model):
    """A service registered with the installation (e.g. a function platform). It signs with
    its own key and may assume any role whose trust policy names it under "Service"."""

    name = models.CharField(max_length=128, unique=True)
    access_key_id = models.CharField(max_length=32, unique=True)  # "LTAS" + random
    secret_sealed = models.CharField(max_length=256)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Hosts its callers sign requests for ("oss.example.com", "127.0.0.1:9000"): when given,
    # it may ask only about requests whose signed host is one of them.
    hosts = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"acs:ram:::service/{self.name}"
