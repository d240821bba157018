"""python manage.py revokerolesessions --account UID --role NAME"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.selectors import principal_for_user
from policies.principal import RequestMeta
from roles.models import Role
from sts.services import revoke_role_sessions


class Command(BaseCommand):
    help = "Revoke every STS session of a role issued before now (they fail at their next use)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="the account uid")
        parser.add_argument("--role", required=True, help="the role name")

    def handle(self, *args: Any, **options: Any) -> None:
        role = (
            Role.objects.select_related("account")
            .filter(account__uid=options["account"], name__lower=options["role"].lower())
            .first()
        )
        if role is None:
            raise CommandError(f"No role {options['role']} in account {options['account']}.")
        root = User.objects.select_related("account").get(account=role.account, kind="root")
        actor = principal_for_user(root, credential="cli", meta=RequestMeta(user_agent="cli"))
        count = revoke_role_sessions(actor=actor, role=role)
        self.stdout.write(
            f"Revoked {count} active session(s) of {role.arn}; sessions issued "
            "from now on are valid."
        )
