"""Writes about resource services that an account's administrators make in the console."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account
from audit.services import changes, event_record
from policies.guards import require
from policies.principal import Principal
from resource_services.models import DataEventSetting


def data_events_resource(account_uid: str) -> str:
    """Data events are a setting of the account's audit log, guarded like its retention."""
    return f"acs:audit:*:{account_uid}:event/*"


def data_events_recorded(account_id: int) -> bool:
    """Whether allowed resource-service decisions are recorded (no row: the default, yes)."""
    stored = DataEventSetting.objects.filter(account_id=account_id).values_list(
        "record_allowed", flat=True
    )
    return next(iter(stored), True)


@transaction.atomic
def data_events_set(*, actor: Principal, account: Account, record_allowed: bool) -> None:
    """Record, or stop recording, the account's allowed resource-service decisions ("data
    events"); denials are recorded either way. Needs audit:SetDataEvents; audited."""
    resource = data_events_resource(account.uid)
    require(actor, "audit:SetDataEvents", resource)
    Account.objects.select_for_update().filter(pk=account.pk).first()  # one change at a time
    before = data_events_recorded(account.pk)
    DataEventSetting.objects.update_or_create(
        account=account, defaults={"record_allowed": record_allowed}
    )
    event_record(
        actor=actor,
        action="audit:SetDataEvents",
        target_arn=resource,
        details=changes({"record_allowed": before}, {"record_allowed": record_allowed}),
    )
