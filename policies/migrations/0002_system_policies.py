"""Seed the system policies every account shares."""

from django.db import migrations

SYSTEM_POLICIES = {
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


def seed(apps, schema_editor):
    import json

    Policy = apps.get_model("policies", "Policy")
    PolicyVersion = apps.get_model("policies", "PolicyVersion")
    for name, (description, statements) in SYSTEM_POLICIES.items():
        policy, _ = Policy.objects.get_or_create(
            account=None,
            name=name,
            defaults={
                "policy_type": "System",
                "description": description,
                "next_version_number": 2,
            },
        )
        if not PolicyVersion.objects.filter(policy=policy).exists():
            document = json.dumps({"Version": "1", "Statement": statements}, indent=2)
            PolicyVersion.objects.create(
                policy=policy, version_id="v1", document=document, is_default=True
            )


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
