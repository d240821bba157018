"""Per-account choice about resource-service decisions in the audit log."""

from django.db import models


class DataEventSetting(models.Model):
    """Whether allowed resource-service decisions ("data events") are recorded for an account.
    No row means the default: recorded. Denials are always recorded."""

    account = models.OneToOneField(
        "accounts.Account",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="data_event_setting",
    )
    record_allowed = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"data events of account {self.account_id}: {self.record_allowed}"
