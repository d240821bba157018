"""The append-only audit trail: one schema for every security-relevant event."""

from django.db import models

from accounts.models import Account


class AuditEvent(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        ERROR = "error", "Error"

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor_arn = models.CharField(max_length=512, blank=True)
    actor_kind = models.CharField(max_length=16, blank=True)
    credential = models.CharField(max_length=128, blank=True)
    action = models.CharField(max_length=128)
    target_arn = models.CharField(max_length=512, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    error_code = models.CharField(max_length=128, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    mfa_present = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%dT%H:%M:%SZ} {self.action} {self.outcome}"
