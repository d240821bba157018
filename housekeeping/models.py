"""One row per periodic task run: what the console's worker health page shows."""

from django.db import models


class TaskRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"

    task = models.CharField(max_length=128, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.RUNNING)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["task", "-id"])]

    def __str__(self) -> str:
        return f"{self.task} {self.started_at:%Y-%m-%dT%H:%M:%SZ} {self.outcome}"
