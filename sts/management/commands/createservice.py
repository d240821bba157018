"""python manage.py createservice NAME --json — register a trusted service."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import IamError
from sts.service_principals import action_prefix, service_create


class Command(BaseCommand):
    help = (
        "Register a trusted service (e.g. fc.<IAM_LOGON_DOMAIN>) and print its credentials "
        "once. It may assume roles whose trust policy names it under Principal.Service, and ask "
        "for decisions on the actions of its name's first label (oss.example: oss:*)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the service name, e.g. fc.iam.example.com")
        parser.add_argument(
            "--host",
            action="append",
            default=[],
            help="a host its callers sign requests for (repeatable); it may then ask only about "
            "requests signed for these hosts",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            service, secret = service_create(name=options["name"], hosts=options["host"])
        except IamError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        result = {
            "ServiceName": service.name,
            "AccessKeyId": service.access_key_id,
            "AccessKeySecret": secret,
            "ActionPrefix": action_prefix(service.name),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        for key, value in result.items():
            self.stdout.write(f"{key}: {value}")
