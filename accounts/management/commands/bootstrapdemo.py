"""Create a demo account the first time the embedded server starts, and say how to log in."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Account
from accounts.services import account_create


class Command(BaseCommand):
    help = "Create the demo account if no account exists yet; print its console URL and login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/console/login")
        parser.add_argument("--alias", default="demo")
        parser.add_argument("--email", default="root@demo.example")

    def handle(self, *args: Any, **options: Any) -> None:
        if Account.objects.exists():
            self.stdout.write(f"Console: {options['url']} (existing accounts kept)")
            return
        account, root, password = account_create(alias=options["alias"], email=options["email"])
        bar = "=" * 64
        self.stdout.write(bar)
        self.stdout.write("iamconsole demo account created (this is printed only once)")
        self.stdout.write(f"  Console:       {options['url']}")
        self.stdout.write(f"  Root login:    {root.email}")
        self.stdout.write(f"  Root password: {password}")
        self.stdout.write(f"  Account:       {account.alias} (uid {account.uid})")
        self.stdout.write(bar)
