"""Console role SSO: the IdP posts a SAML response to the role-SSO ACS; the user picks one of
the roles the assertion grants and enters the console as that role session (no RAM user)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from defusedxml import ElementTree
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.errors import IamError
from accounts.middleware import FEDERATED_FIELD
from audit.services import event_record
from federation.models import SAMLProvider
from federation.saml import SamlIdentity, SamlRejected, accept_once, role_sp
from federation.saml_sts import granted_roles, issue_for_assertion, verify_for_provider
from roles.models import Role

PENDING = "role_sso_pending"
PENDING_SECONDS = 300
SAML_NS = "{urn:oasis:names:tc:SAML:2.0:assertion}"


def _issuer(encoded: str) -> str:
    """The Issuer named in a response, to pick the provider to verify it with (unverified)."""
    import base64

    try:
        root = ElementTree.fromstring(base64.b64decode(encoded, validate=True))
    except Exception:
        return ""
    issuer = root.find(f"{SAML_NS}Issuer")
    if issuer is None:
        issuer = root.find(f".//{SAML_NS}Issuer")
    return (issuer.text or "").strip() if issuer is not None else ""


def _failed(request: HttpRequest, exc: IamError) -> HttpResponse:
    return render(
        request,
        "federation/sso_failed.html",
        {"message": exc.message, "code": exc.code},
        status=exc.status if exc.status < 500 else 503,
    )


@csrf_exempt  # posted cross-site by the IdP; the signed, single-use assertion protects it
@login_not_required
@never_cache
@require_POST
def role_acs(request: HttpRequest) -> HttpResponse:
    meta = request.meta  # type: ignore[attr-defined]
    encoded = request.POST.get("SAMLResponse", "")
    sp = role_sp()
    issuer = _issuer(encoded)
    candidates = (
        list(SAMLProvider.objects.select_related("account").filter(entity_id=issuer)[:20])
        if issuer
        else []
    )
    choices: list[tuple[SAMLProvider, Role]] = []
    identity: SamlIdentity | None = None
    try:
        if not candidates:
            raise SamlRejected(
                "AuthenticationFail.NoPermission", "No SAML provider is registered for this IdP."
            )
        refusal: SamlRejected | None = None
        for provider in candidates:  # the same IdP may be registered in several accounts
            try:
                verified = verify_for_provider(provider, encoded, sp, meta, "console:RoleSSO")
            except SamlRejected as exc:
                refusal = exc
                continue
            identity = verified
            arns = {arn.lower() for arn in granted_roles(verified, provider)}
            roles = Role.objects.select_related("account").filter(account_id=provider.account_id)
            choices += [(provider, role) for role in roles if role.arn.lower() in arns]
        if identity is None:
            assert refusal is not None
            raise refusal
        if not choices:
            raise SamlRejected(
                "AuthenticationFail.NoPermission",
                "The assertion grants no role of this installation (Role attribute).",
            )
        from accounts.login import address_allowed

        choices = [(p, r) for p, r in choices if address_allowed(p.account_id, meta)]
        if not choices:
            raise SamlRejected(
                "AuthenticationFail.NetworkNotAllowed",
                f"Console sign-in is not allowed from your network ({meta.source_ip}).",
            )
        accept_once(identity)
    except IamError as exc:
        return _failed(request, exc)
    for provider in {p.pk: p for p, _ in choices}.values():
        event_record(
            action="console:RoleSSO",
            account=provider.account_id,
            actor_arn=provider.arn,
            actor_kind="federated",
            meta=meta,
            details={
                "stage": "assertion",
                "subject": identity.subject,
                "assertion": identity.assertion_id,
                "roles": [r.arn for p, r in choices if p.pk == provider.pk],
            },
        )
    request.session.flush()
    request.session[PENDING] = {
        "at": int(time.time()),
        "identity": {
            "issuer": identity.issuer,
            "subject": identity.subject,
            "subject_type": identity.subject_type,
            "recipient": identity.recipient,
            "assertion_id": identity.assertion_id,
            "not_on_or_after": identity.not_on_or_after.timestamp(),
            "attributes": identity.attributes,
        },
        "choices": [[provider.pk, role.pk] for provider, role in choices],
    }
    return render(
        request,
        "federation/role_pick.html",
        {"choices": [(f"{p.pk}:{r.pk}", p, r) for p, r in choices], "subject": identity.subject},
    )


class PickForm(forms.Form):
    choice = forms.CharField(max_length=64)


@login_not_required
@never_cache
@require_POST
def role_choose(request: HttpRequest) -> HttpResponse:
    meta = request.meta  # type: ignore[attr-defined]
    pending = request.session.get(PENDING)
    form = PickForm(request.POST)
    if (
        not isinstance(pending, dict)
        or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS
        or not form.is_valid()
    ):
        request.session.pop(PENDING, None)
        messages.error(
            request, "That sign-in has expired. Sign in again at your identity provider."
        )
        return redirect("accounts:login")
    allowed = {f"{p}:{r}" for p, r in pending["choices"]}
    if form.cleaned_data["choice"] not in allowed:
        messages.error(request, "Pick one of the roles offered.")
        return redirect("accounts:login")
    provider_pk, role_pk = (int(x) for x in form.cleaned_data["choice"].split(":"))
    provider = SAMLProvider.objects.select_related("account").get(pk=provider_pk)
    role = Role.objects.select_related("account").get(pk=role_pk)
    data = pending["identity"]
    identity = SamlIdentity(
        issuer=data["issuer"],
        subject=data["subject"],
        subject_type=data["subject_type"],
        recipient=data["recipient"],
        assertion_id=data["assertion_id"],
        not_on_or_after=datetime.fromtimestamp(data["not_on_or_after"], tz=UTC),
        attributes=data["attributes"],
    )
    try:
        # One role session per assertion even if the pick is posted twice at once.
        accept_once(identity, step="console-role-issue")
        creds = issue_for_assertion(
            provider=provider,
            role=role,
            identity=identity,
            sp=role_sp(),
            meta=meta,
            duration=None,
            action="console:RoleSSO",
            consume=False,
        )
    except IamError as exc:
        request.session.pop(PENDING, None)
        return _failed(request, exc)
    request.session.cycle_key()
    request.session.pop(PENDING, None)
    request.session[FEDERATED_FIELD] = {"key": creds.session.access_key_id, "token": creds.token}
    request.session.set_expiry(max(60, int(creds.session.expires_at.timestamp() - time.time())))
    messages.success(
        request, f"You are signed in as role {role.name} ({creds.session.session_name})."
    )
    return redirect("accounts:overview")
