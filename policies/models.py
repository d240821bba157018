"""Policies (System or Custom), their immutable versions, and attachments."""

from django.db import models
from django.db.models.functions import Lower

from accounts.models import Account, User
from groups.models import Group


class Policy(models.Model):
    class Type(models.TextChoices):
        SYSTEM = "System", "System"
        CUSTOM = "Custom", "Custom"

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )  # null for system policies, which every account shares
    name = models.CharField(max_length=128)
    policy_type = models.CharField(max_length=8, choices=Type.choices)
    description = models.CharField(max_length=1024, blank=True)
    next_version_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "account",
                Lower("name"),
                name="uniq_custom_policy_name",
                condition=models.Q(account__isnull=False),
            ),
            models.UniqueConstraint(
                Lower("name"),
                name="uniq_system_policy_name",
                condition=models.Q(account__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_type}/{self.name}"

    @property
    def is_system(self) -> bool:
        return self.policy_type == self.Type.SYSTEM

    def resource_arn(self, account_uid: str) -> str:
        owner = "system" if self.is_system else account_uid
        return f"acs:ram:*:{owner}:policy/{self.name}"


class PolicyVersion(models.Model):
    """One version of a policy document. Versions never change once written."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=8)
    document = models.TextField()
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy_id", "id"]
        constraints = [
            models.UniqueConstraint("policy", "version_id", name="uniq_policy_version"),
            models.UniqueConstraint(
                "policy", condition=models.Q(is_default=True), name="one_default_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name}:{self.version_id}"


class PolicyAttachment(models.Model):
    """A policy attached to exactly one user or group of an account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="attachments")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="attachments")
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="policy_attachments"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="policy_attachments"
    )
    role = models.ForeignKey(
        "roles.Role",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="policy_attachments",
    )
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, group__isnull=True, role__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False, role__isnull=True)
                | models.Q(user__isnull=True, group__isnull=True, role__isnull=False),
                name="attachment_has_one_target",
            ),
            models.UniqueConstraint("policy", "user", name="uniq_user_attachment"),
            models.UniqueConstraint("policy", "group", name="uniq_group_attachment"),
            models.UniqueConstraint("policy", "role", name="uniq_role_attachment"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} -> {self.user_id or self.group_id}"
