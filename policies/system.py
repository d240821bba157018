"""The system policies that ship with the product (reference §7.7), kept in sync after migrate.

Migration 0002 seeds them; `sync_system_policies` (run after every migrate and database flush)
adds any that are missing and a new default version when the shipped document changes.
"""

from __future__ import annotations

import json
from typing import Any

SYSTEM_POLICIES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "AdministratorAccess": (
        "Full access to everything in the account.",
        [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    ),
    "ReadOnlyAccess": (
        "Read-only access to everything in the account.",
        [
            {
                "Effect": "Allow",
                "Action": ["*:Get*", "*:List*", "*:Describe*", "*:Query*", "*:Lookup*"],
                "Resource": "*",
            }
        ],
    ),
    "AliyunRAMFullAccess": (
        "Full access to RAM: users, groups, roles and policies.",
        [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}],
    ),
    "AliyunRAMReadOnlyAccess": (
        "Read-only access to RAM.",
        [
            {
                "Effect": "Allow",
                "Action": ["ram:Get*", "ram:List*", "ram:GenerateCredentialReport"],
                "Resource": "*",
            }
        ],
    ),
    "AliyunSTSAssumeRoleAccess": (
        "Permission to call STS AssumeRole.",
        [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    ),
    "AuditReadOnlyAccess": (
        "Read, export and verify the audit log; no user management rights.",
        [
            {
                "Effect": "Allow",
                "Action": ["audit:LookupEvents", "audit:ExportEvents", "audit:VerifyIntegrity"],
                "Resource": "*",
            }
        ],
    ),
}


def document_for(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "1", "Statement": statements}, indent=2)


def sync_system_policies(policy_model: Any, version_model: Any) -> None:
    """Create missing system policies; add a default version when a document changed."""
    for name, (description, statements) in SYSTEM_POLICIES.items():
        document = document_for(statements)
        policy, _ = policy_model.objects.get_or_create(
            account=None,
            name=name,
            defaults={
                "policy_type": "System",
                "description": description,
                "next_version_number": 1,
            },
        )
        current = version_model.objects.filter(policy=policy, is_default=True).first()
        if current is not None and json.loads(current.document) == json.loads(document):
            continue
        version_id = f"v{policy.next_version_number}"
        version_model.objects.filter(policy=policy, is_default=True).update(is_default=False)
        version_model.objects.create(
            policy=policy, version_id=version_id, document=document, is_default=True
        )
        policy_model.objects.filter(pk=policy.pk).update(
            next_version_number=policy.next_version_number + 1, description=description
        )
