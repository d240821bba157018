from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_system_policies(sender: Any, **kwargs: Any) -> None:
    from policies.models import Policy, PolicyVersion
    from policies.system import sync_system_policies

    sync_system_policies(Policy, PolicyVersion)


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self) -> None:
        # Reference data, like content types: present after every migrate and flush.
        post_migrate.connect(_sync_system_policies, sender=self)
