"""Worker health: the last run of each scheduled task, and a warning when beat looks stalled."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.console import handle_iam_errors
from housekeeping.services import health
from policies.guards import require


@handle_iam_errors
def worker_health(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "iam:GetWorkerHealth", f"acs:iam:*:{principal.account_uid}:worker")
    rows = health()
    return render(
        request,
        "housekeeping/health.html",
        {"rows": rows, "stalled": any(row["stale"] for row in rows)},
    )
