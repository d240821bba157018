"""Groups of RAM users; policies attached to a group apply to all its members."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from accounts.models import Account, User


class Group(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="groups")
    group_id = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=64)
    comments = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members: models.ManyToManyField[User, GroupMembership] = models.ManyToManyField(
        User, through="GroupMembership", related_name="ram_groups"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="uniq_group_name_per_account")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_arn(self) -> str:
        return f"acs:ram:*:{self.account.uid}:group/{self.name}"

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account.uid}:group/{self.name}"


class GroupMembership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="group_memberships")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("group", "user", name="uniq_group_member")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"
