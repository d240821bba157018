"""Seed the system policies every account shares."""

from django.db import migrations


def seed(apps, schema_editor):
    from policies.system import sync_system_policies

    sync_system_policies(
        apps.get_model("policies", "Policy"), apps.get_model("policies", "PolicyVersion")
    )


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
