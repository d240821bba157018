"""python manage.py rotateencryptionkeys — re-seal every stored secret with the newest key."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.crypto_rotation import reseal_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first (newest) key of IAM_ENCRYPTION_KEYS. "
        "Afterwards older keys can be removed from the setting."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        resealed, current = reseal_all(batch_size=options["batch_size"])
        self.stdout.write(
            f"Re-encrypted {resealed} secret(s); {current} already used the newest key."
        )
