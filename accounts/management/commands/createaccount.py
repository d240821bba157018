"""python manage.py createaccount --alias ALIAS --email EMAIL [--password-stdin] [--json]"""

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import IamError
from accounts.services import account_create


class Command(BaseCommand):
    help = "Create an account and its root identity; print the root's login once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alias", required=True, help="account alias, e.g. acme")
        parser.add_argument("--email", required=True, help="the root identity's email (its login)")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the root password from standard input",
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("no password on standard input")
        try:
            account, root, password = account_create(
                alias=options["alias"], email=options["email"], password=password
            )
        except IamError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        result = {
            "account_uid": account.uid,
            "alias": account.alias,
            "root_login": root.email,
            "root_password": password,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Account {account.alias} created (uid {account.uid}).")
        self.stdout.write(f"Root login:    {root.email}")
        self.stdout.write(f"Root password: {password}   (shown once; store it safely)")
        self.stdout.write(
            f"RAM users will sign in as <name>@{account.alias}.{settings.IAM_LOGON_DOMAIN}"
        )
