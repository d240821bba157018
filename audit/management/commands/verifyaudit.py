"""python manage.py verifyaudit [--account UID] [--json]"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account
from audit.integrity import verify_chain
from audit.models import AuditChainHead
from audit.services import event_record
from policies.principal import RequestMeta


class Command(BaseCommand):
    help = (
        "Verify the audit hash chains (one per account, and chain 0 for events of no account) "
        "from their last retention checkpoint; report the first broken link. Exits 1 if any "
        "chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="only this account (uid)")
        parser.add_argument("--json", action="store_true", help="one JSON object per chain")
        parser.add_argument(
            "--archive", help="verify a retention archive file (JSON Lines) on its own instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["archive"]:
            from pathlib import Path

            from audit.retention import verify_archive

            path = Path(options["archive"])
            if not path.is_file():
                raise CommandError(f"No file {path}.")
            ok, message = verify_archive(path)
            self.stdout.write(f"{path.name}: {message}")
            if not ok:
                raise CommandError("The archive is broken.", returncode=1)
            return
        accounts = {a.pk: a for a in Account.objects.all()}
        if options["account"]:
            account = next((a for a in accounts.values() if a.uid == options["account"]), None)
            if account is None:
                raise CommandError(f"No account {options['account']}.")
            chains = [account.pk]
        else:
            chains = sorted(AuditChainHead.objects.values_list("chain", flat=True))
        broken = 0
        for chain in chains:
            verdict = verify_chain(chain)
            account = accounts.get(chain)
            label = account.uid if account else "installation"
            if account is not None:
                event_record(
                    action="audit:VerifyIntegrity",
                    account=account,
                    actor_kind="cli",
                    meta=RequestMeta(user_agent="cli"),
                    outcome="success" if verdict.intact else "error",
                    error_code="" if verdict.intact else "AuditChainBroken",
                    details={"checked": verdict.checked, "broken_seq": verdict.broken_seq},
                )
            broken += not verdict.intact
            if options["json"]:
                self.stdout.write(
                    json.dumps(
                        {
                            "account": label,
                            "intact": verdict.intact,
                            "checked": verdict.checked,
                            "from_seq": verdict.start.seq,
                            "last_seq": verdict.end.seq,
                            "broken_seq": verdict.broken_seq,
                            "broken_event_id": verdict.broken_event_id,
                            "reason": verdict.reason,
                        }
                    )
                )
            else:
                self.stdout.write(f"{label}: {verdict.summary()}")
        if broken:
            raise CommandError(f"{broken} chain(s) broken.", returncode=1)
