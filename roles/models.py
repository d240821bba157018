"""RAM roles: no permanent credentials; trusted entities assume them through STS."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from accounts.models import Account


class Role(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="roles")
    role_id = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=1024, blank=True)
    trust_policy = models.TextField()
    max_session_duration = models.PositiveIntegerField(default=3600)
    # Sessions issued before this moment are revoked ("revoke all sessions issued before now").
    sessions_valid_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="uniq_role_name_per_account")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account.uid}:role/{self.name}"

    @property
    def resource_arn(self) -> str:
        return f"acs:ram:*:{self.account.uid}:role/{self.name}"

    @property
    def principal_name(self) -> str:
        return f"{self.name}@role.{self.account.uid}.onaliyunservice.com"
