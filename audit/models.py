"""The append-only audit trail: one schema for every security-relevant event.

Events are written by `audit.services.event_record` only, each hash-chained to the previous
event of its account (see audit/chain.py). Nothing in the code updates or deletes an event;
the retention task removes events only after exporting them behind a checkpoint.
"""

from typing import Any, NoReturn

from django.db import models

from accounts.models import Account


class AppendOnlyError(Exception):
    """Audit events are never changed or deleted through the ORM."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are written by audit.services.event_record")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        ERROR = "error", "Error"

    occurred_at = models.DateTimeField(db_index=True)
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
    # The hash chain: chain = account id (0 for events of no account).
    chain = models.PositiveBigIntegerField(default=0)
    seq = models.PositiveBigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, default="")
    hash = models.CharField(max_length=64, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["account", "action", "-id"], name="audit_acct_action"),
            models.Index(fields=["account", "actor_arn", "-id"], name="audit_acct_actor"),
            models.Index(fields=["account", "target_arn", "-id"], name="audit_acct_target"),
            models.Index(fields=["account", "credential", "-id"], name="audit_acct_credential"),
            models.Index(fields=["account", "source_ip", "-id"], name="audit_acct_ip"),
            models.Index(fields=["account", "occurred_at", "id"], name="audit_acct_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%dT%H:%M:%SZ} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are written by audit.services.event_record")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    @property
    def is_failure(self) -> bool:
        return self.outcome != self.Outcome.SUCCESS


class AuditChainHead(models.Model):
    """The latest link of one chain; its row lock serialises appends to that chain."""

    chain = models.PositiveBigIntegerField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain {self.chain} @ #{self.seq}"


class AuditCheckpoint(models.Model):
    """Events up to `seq` were exported to `archive` and pruned; `hash` is the last one's."""

    chain = models.PositiveBigIntegerField()
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    first_seq = models.PositiveBigIntegerField()
    events = models.PositiveIntegerField()
    archive = models.CharField(max_length=1024)
    archive_sha256 = models.CharField(max_length=64)
    oldest_at = models.DateTimeField()
    newest_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_checkpoint_unique"),
        ]

    def __str__(self) -> str:
        return f"chain {self.chain} checkpoint #{self.seq}"


class IntegrityCheck(models.Model):
    """One "Verify integrity" run requested from the console, done by the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        INTACT = "intact", "Intact"
        BROKEN = "broken", "Broken"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="integrity_checks")
    requested_by = models.CharField(max_length=512)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveBigIntegerField(default=0)
    checked = models.PositiveBigIntegerField(default=0)
    broken_seq = models.PositiveBigIntegerField(null=True, blank=True)
    broken_event_id = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"integrity check {self.pk} {self.status}"

    @property
    def done(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.checked / self.total)) if self.total else 0
