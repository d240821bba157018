"""The one console flow for revoking a role session, wherever the console offers it (the
role's page, the audit log's sessions page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.console import confirm
from policies.guards import require
from sts.models import StsSession
from sts.services import revoke_session


def session_revoke_confirmed(
    request: HttpRequest, session: StsSession, *, back: str, title: str, done: str
) -> HttpResponse:
    """GET: a confirmation naming the session (changes nothing); POST: revoke it. `title` and
    `done` word the page and the message for where the console offers it."""
    principal = request.principal  # type: ignore[attr-defined]
    if request.method == "POST":
        revoke_session(actor=principal, session=session)
        messages.success(request, done)
        return redirect(back)
    require(principal, "sts:RevokeSession", session.role.resource_arn)
    return confirm(
        request,
        title=title,
        message="Its temporary credentials stop working at their next use. Whoever assumed "
        "the role can assume it again if the trust policy still allows them.",
        details=[
            f"Access key: {session.access_key_id}",
            f"Assumed by: {session.source_arn}",
            f"Expires: {session.expires_at:%Y-%m-%d %H:%M:%S} UTC",
        ],
        action_url=request.path,
        cancel_url=back,
        button="Revoke session",
    )
