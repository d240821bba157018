"""python manage.py createaccesskey PRINCIPAL_LOGIN --json — bootstrap a key for automation."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access_keys import access_key_create
from accounts.errors import IamError
from accounts.login import resolve_login
from accounts.models import User
from accounts.selectors import principal_for_user
from policies.principal import RequestMeta


class Command(BaseCommand):
    help = (
        "Create an AccessKey for a RAM user (name@alias.<domain>) or a root (its email) and "
        "print the pair once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("principal_login", help="RAM user login name, or the root's email")
        parser.add_argument("--json", action="store_true", help="print the pair as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        user = resolve_login(options["principal_login"])
        if user is None:
            raise CommandError(f"No identity has the login {options['principal_login']!r}.")
        root = User.objects.select_related("account").get(
            account_id=user.account_id, kind=User.Kind.ROOT
        )
        # The operator acts with the account root's authority, recorded as a CLI action.
        actor = principal_for_user(root, credential="cli", meta=RequestMeta(user_agent="cli"))
        try:
            key, secret = access_key_create(actor=actor, user=user)
        except IamError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        if options["json"]:
            self.stdout.write(
                json.dumps({"AccessKeyId": key.access_key_id, "AccessKeySecret": secret})
            )
            return
        if user.is_root:
            self.stderr.write(
                "Warning: a root AccessKey can do everything in the account; "
                "prefer a RAM user with the permissions the program needs."
            )
        self.stdout.write(f"ALIBABA_CLOUD_ACCESS_KEY_ID={key.access_key_id}")
        self.stdout.write(f"ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}")
