"""Read the audit trail: one account's events, filtered, in keyset pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from audit.models import AuditEvent, IntegrityCheck
from policies.principal import Principal

PAGE_SIZE = 50
FAILED = ("denied", "error")


def _arn_forms(uid: str, value: str) -> list[str]:
    """An ARN as events store it: actors as `acs:ram::uid:…`, resources as `acs:ram:*:uid:…`."""
    if ":" not in value:  # a bare RAM user name
        return [f"acs:ram::{uid}:user/{value}", f"acs:ram:*:{uid}:user/{value}"]
    forms = [value]
    if value.startswith(f"acs:ram::{uid}:"):
        forms.append(value.replace(f"acs:ram::{uid}:", f"acs:ram:*:{uid}:", 1))
    elif value.startswith(f"acs:ram:*:{uid}:"):
        forms.append(value.replace(f"acs:ram:*:{uid}:", f"acs:ram::{uid}:", 1))
    return forms


def events_for(actor: Principal, filters: dict[str, Any] | None = None) -> QuerySet[AuditEvent]:
    """The actor's account's events, newest first, narrowed by the list's filters."""
    filters = filters or {}
    uid = actor.account_uid
    events = AuditEvent.objects.filter(account_id=actor.account_id)
    mine = AuditEvent.objects.filter(account_id=actor.account_id)
    # Events are stamped under their chain's lock, so an account's ids grow with time: a time
    # range becomes an id range (found on the time index), and the list walks the id index.
    if since := filters.get("since"):
        first = mine.filter(occurred_at__gte=since).order_by("occurred_at", "id")
        events = events.filter(occurred_at__gte=since, id__gte=_first_id(first))
    if until := filters.get("until"):
        last = mine.filter(occurred_at__lt=until).order_by("-occurred_at", "-id")
        events = events.filter(occurred_at__lt=until, id__lte=_first_id(last, empty=0))
    if actor_filter := filters.get("actor"):
        events = events.filter(actor_arn__in=_arn_forms(uid, actor_filter))
    if target := filters.get("target"):
        events = events.filter(target_arn__in=_arn_forms(uid, target))
    if action := filters.get("action"):
        if action.endswith("*"):
            events = events.filter(action__istartswith=action.rstrip("*"))
        else:
            events = events.filter(action__iexact=action)
    outcome = filters.get("outcome")
    if outcome == "failed":
        events = events.filter(outcome__in=FAILED)
    elif outcome:
        events = events.filter(outcome=outcome)
    if source_ip := filters.get("source_ip"):
        events = events.filter(source_ip=source_ip)
    if credential := filters.get("credential"):
        events = events.filter(credential=credential)
    if service := filters.get("service"):  # decisions a resource service asked for
        events = events.filter(details__service=service)
    if query := filters.get("q"):
        events = events.filter(
            Q(action__icontains=query)
            | Q(actor_arn__icontains=query)
            | Q(target_arn__icontains=query)
            | Q(error_code__icontains=query)
            | Q(credential__icontains=query)
            | Q(request_id__icontains=query)
            | Q(user_agent__icontains=query)
        )
    return events.order_by("-id")


def _first_id(events: QuerySet[AuditEvent], empty: int = 2**62) -> int:
    found = events.values_list("id", flat=True)[:1]
    return next(iter(found), empty)


@dataclass
class KeysetPage:
    events: list[AuditEvent]
    newer: int | None  # `after` cursor for the previous (newer) page
    older: int | None  # `before` cursor for the next (older) page


def keyset_page(
    events: QuerySet[AuditEvent], *, before: int | None, after: int | None, size: int = PAGE_SIZE
) -> KeysetPage:
    """One page by id (no OFFSET, no COUNT): fast at any depth of a large trail."""
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows, rows[0].pk if more_newer and rows else None, rows[-1].pk if rows else None
        )
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    newer = rows[0].pk if before is not None and rows else None
    return KeysetPage(rows, newer, rows[-1].pk if more_older and rows else None)


def event_for(actor: Principal, event_id: int) -> AuditEvent | None:
    return AuditEvent.objects.filter(account_id=actor.account_id, pk=event_id).first()


def events_streamed(events: QuerySet[AuditEvent], chunk: int = 2000) -> Iterator[AuditEvent]:
    """All matching events, newest first, fetched in keyset chunks (constant memory)."""
    before: int | None = None
    while True:
        page = events.filter(id__lt=before) if before is not None else events
        rows = list(page[:chunk])
        yield from rows
        if len(rows) < chunk:
            return
        before = rows[-1].pk


@dataclass
class DailyCounts:
    day: Any
    events: int
    failed_logins: int
    denials: int


def _count_days(account_id: int, since: datetime, until: datetime | None) -> dict[Any, dict]:
    events = AuditEvent.objects.filter(account_id=account_id, occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    rows = (
        events.annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            events=Count("id"),
            failed_logins=Count("id", filter=Q(action="console:Login", outcome__in=FAILED)),
            denials=Count("id", filter=Q(outcome="denied")),
        )
        .order_by()
    )
    return {row["day"]: row for row in rows}


def _midnight(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def daily_counts(account_id: int, days: int = 30) -> list[DailyCounts]:
    """Per UTC day for the last `days` days (zero days included), for the overview charts.

    A past day's counts never change (events are stamped when written), so they are cached;
    only days missing from the cache and today are counted.
    """
    from django.core.cache import cache

    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    past = [start + timedelta(days=offset) for offset in range(days - 1)]
    keys = {day: f"audit-daily:{account_id}:{day.isoformat()}" for day in past}
    cached = cache.get_many(list(keys.values()))
    by_day: dict[Any, dict] = {day: cached[key] for day, key in keys.items() if key in cached}
    missing = [day for day in past if day not in by_day]
    if missing:
        counted = _count_days(account_id, _midnight(missing[0]), _midnight(today))
        fresh = {day: counted.get(day, {}) for day in missing}
        cache.set_many({keys[day]: value for day, value in fresh.items()}, timeout=3 * 86400)
        by_day.update(fresh)
    by_day.update(_count_days(account_id, _midnight(today), None))
    result = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        row = by_day.get(day, {})
        result.append(
            DailyCounts(
                day, row.get("events", 0), row.get("failed_logins", 0), row.get("denials", 0)
            )
        )
    return result


def latest_check(account_id: int) -> IntegrityCheck | None:
    return IntegrityCheck.objects.filter(account_id=account_id).first()
