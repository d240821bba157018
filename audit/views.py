"""The operator side of the audit log: overview with charts and integrity, the filtered event
list with keyset pagination, event detail, streamed export, and integrity checks."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.console import handle_iam_errors
from accounts.errors import NotFound
from accounts.models import Account
from accounts.stepup import step_up_redirect
from audit import selectors
from audit.chain import timestamp
from audit.charts import bar_chart
from audit.forms import EventFilterForm, RetentionForm
from audit.models import AuditEvent, IntegrityCheck
from audit.services import event_record, integrity_check_request, retention_set
from policies.guards import allowed, require
from policies.principal import Principal
from resource_services.forms import DataEventsForm
from resource_services.services import data_events_recorded, data_events_set

EXPORT_FIELDS = (
    "id",
    "occurred_at",
    "account",
    "actor_arn",
    "actor_kind",
    "credential",
    "action",
    "target_arn",
    "outcome",
    "error_code",
    "source_ip",
    "user_agent",
    "request_id",
    "mfa_present",
    "details",
    "seq",
    "prev_hash",
    "hash",
)


def _resource(principal: Principal) -> str:
    return f"acs:audit:*:{principal.account_uid}:event/*"


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 20 else None


def _filters(request: HttpRequest) -> tuple[EventFilterForm, dict[str, Any]]:
    form = EventFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.filters()
    return form, {}


def _querystring(filters: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    plain = {
        k: v.strftime("%Y-%m-%dT%H:%M") if hasattr(v, "strftime") else v for k, v in filters.items()
    }
    return urlencode(plain)


@handle_iam_errors
def overview(request: HttpRequest, retention_form: RetentionForm | None = None) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:LookupEvents", _resource(principal))
    days = selectors.daily_counts(principal.account_id)
    charts = [
        bar_chart("Events per day", [(d.day, d.events) for d in days], "#3b6fd8"),
        bar_chart("Failed sign-ins per day", [(d.day, d.failed_logins) for d in days], "#c26a00"),
        bar_chart("Denials per day", [(d.day, d.denials) for d in days], "#c62828"),
    ]
    event_record(
        actor=principal,
        action="audit:LookupEvents",
        target_arn=_resource(principal),
        details={"view": "overview"},
    )
    recorded = data_events_recorded(principal.account_id)
    return render(
        request,
        "audit/overview.html",
        {
            "charts": charts,
            "check": selectors.latest_check(principal.account_id),
            "can_verify": allowed(principal, "audit:VerifyIntegrity", _resource(principal)),
            "can_set_retention": allowed(principal, "audit:SetRetention", _resource(principal)),
            "retention_days": _retention_days(principal),
            "retention_form": retention_form
            or RetentionForm(initial={"days": _retention_days(principal)}),
            "can_set_data_events": allowed(principal, "audit:SetDataEvents", _resource(principal)),
            "data_events_form": DataEventsForm(initial={"record_allowed": recorded}),
            "data_events_recorded": recorded,
        },
        status=400 if retention_form is not None else 200,
    )


def _retention_days(principal: Principal) -> int:
    return Account.objects.values_list("audit_retention_days", flat=True).get(
        pk=principal.account_id
    )


@handle_iam_errors
def event_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:LookupEvents", _resource(principal))
    form, filters = _filters(request)
    page = selectors.keyset_page(
        selectors.events_for(principal, filters),
        before=_cursor(request.GET.get("before")),
        after=_cursor(request.GET.get("after")),
    )
    event_record(
        actor=principal,
        action="audit:LookupEvents",
        target_arn=_resource(principal),
        details={"filters": filters, "returned": len(page.events)},
    )
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool(filters),
            "query": _querystring(filters),
            "can_export": allowed(principal, "audit:ExportEvents", _resource(principal)),
        },
    )


@handle_iam_errors
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:LookupEvents", _resource(principal))
    event = selectors.event_for(principal, event_id)
    if event is None:
        raise NotFound("EntityNotExist.AuditEvent", f"There is no event {event_id}.")
    event_record(
        actor=principal,
        action="audit:LookupEvents",
        target_arn=_resource(principal),
        details={"event": event.pk},
    )
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "details": json.dumps(event.details, indent=2, ensure_ascii=False, sort_keys=True),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ becomes text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _row(event: AuditEvent, uid: str) -> dict[str, Any]:
    return {
        "id": event.pk,
        "occurred_at": timestamp(event.occurred_at),
        "account": uid,
        "actor_arn": event.actor_arn,
        "actor_kind": event.actor_kind,
        "credential": event.credential,
        "action": event.action,
        "target_arn": event.target_arn,
        "outcome": event.outcome,
        "error_code": event.error_code,
        "source_ip": event.source_ip or "",
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "mfa_present": event.mfa_present,
        "details": event.details,
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _csv_lines(events: Iterator[AuditEvent], uid: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for event in events:
        row = _row(event, uid)
        row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        yield writer.writerow([_cell(row[name]) for name in EXPORT_FIELDS])


def _jsonl_lines(events: Iterator[AuditEvent], uid: str) -> Iterator[str]:
    for event in events:
        yield json.dumps(_row(event, uid), ensure_ascii=False, cls=DjangoJSONEncoder) + "\n"


@handle_iam_errors
def event_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:ExportEvents", _resource(principal))
    fmt = "jsonl" if request.GET.get("format") == "jsonl" else "csv"
    form, filters = _filters(request)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "audit/event_list.html",
            {"form": form, "page": None, "filtered": True, "query": "", "can_export": True},
            status=400,
        )
    event_record(
        actor=principal,
        action="audit:ExportEvents",
        target_arn=_resource(principal),
        details={"filters": filters, "format": fmt},
    )
    events = selectors.events_streamed(selectors.events_for(principal, filters))
    uid = principal.account_uid
    lines = _csv_lines(events, uid) if fmt == "csv" else _jsonl_lines(events, uid)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(
        lines,
        content_type="text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{uid}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@handle_iam_errors
def verify_start(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    check = integrity_check_request(actor=principal)
    messages.info(request, "Integrity check queued; the worker verifies the chain.")
    return redirect("audit:verify_status", check_id=check.pk)


@handle_iam_errors
def verify_status(request: HttpRequest, check_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:VerifyIntegrity", _resource(principal))
    check = get_object_or_404(IntegrityCheck, pk=check_id, account_id=principal.account_id)
    return render(request, "audit/verify_status.html", {"check": check})


@require_POST
@handle_iam_errors
def retention(request: HttpRequest) -> HttpResponseBase:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:SetRetention", _resource(principal))
    step_up = step_up_redirect(request, next_url=reverse("audit:overview"))
    if step_up is not None:
        return step_up
    form = RetentionForm(request.POST)
    if not form.is_valid():
        return overview(request, retention_form=form)
    retention_set(actor=principal, days=form.cleaned_data["days"])
    messages.success(request, f"Events are now kept online for {form.cleaned_data['days']} days.")
    return redirect("audit:overview")


@require_POST
@handle_iam_errors
def data_events(request: HttpRequest) -> HttpResponseBase:
    """Switch recording of allowed resource-service decisions for the account."""
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:SetDataEvents", _resource(principal))
    step_up = step_up_redirect(request, next_url=reverse("audit:overview"))
    if step_up is not None:
        return step_up
    form = DataEventsForm(request.POST)
    record = form.is_valid() and form.cleaned_data["record_allowed"]  # unticked: off
    account = Account.objects.get(pk=principal.account_id)
    data_events_set(actor=principal, account=account, record_allowed=record)
    messages.success(
        request,
        "Allowed resource-service decisions are now recorded."
        if record
        else "Allowed resource-service decisions are no longer recorded; denials still are.",
    )
    return redirect("audit:overview")
