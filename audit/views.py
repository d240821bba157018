"""A plain audit event list for the account (the operator views come later)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.console import handle_iam_errors, paginate
from audit.selectors import events_for
from policies.guards import require


@handle_iam_errors
def event_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "audit:LookupEvents", f"acs:audit:*:{principal.account_uid}:event/*")
    query = request.GET.get("q", "").strip()[:128]
    page = paginate(request, events_for(principal, query), size=50)
    return render(request, "audit/event_list.html", {"page": page, "q": query})
