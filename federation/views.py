"""Console single sign-on: the account's ACS (SAML responses from its IdP), the SP-initiated
start, our SP metadata, and the SSO settings page."""

from __future__ import annotations

import time

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.console import handle_iam_errors, render_error
from accounts.errors import IamError
from accounts.models import Account
from accounts.preferences import security_preference_of
from accounts.sessions import console_session_start
from accounts.stepup import mark_recent_auth, step_up_redirect
from federation.saml import ServiceProvider, user_sp
from federation.user_sso import sso_settings_of, sso_sign_in, user_sso_set
from policies.guards import allowed, require

REQUESTS_COOKIE = "iam_saml_requests"
REQUESTS_PATH = "/console/sso/"
REQUEST_SECONDS = 600
MAX_OUTSTANDING_REQUESTS = 5


def _account_for(identifier: str) -> Account | None:
    identifier = identifier.strip().lower()
    return (
        Account.objects.filter(uid=identifier).first()
        or Account.objects.filter(alias=identifier).first()
    )


@csrf_exempt  # the IdP posts cross-site; the signed, single-use assertion is the protection
@login_not_required
@never_cache
@require_POST
def assertion_consumer(request: HttpRequest, account_uid: str) -> HttpResponse:
    meta = request.meta  # type: ignore[attr-defined]
    requests = _outstanding_requests(request)
    try:
        result = sso_sign_in(
            account_uid=account_uid,
            encoded=request.POST.get("SAMLResponse", ""),
            meta=meta,
            outstanding={request_id for uid, request_id, _ in requests if uid == account_uid},
        )
    except IamError as exc:
        return render(
            request,
            "federation/sso_failed.html",
            {"message": exc.message, "code": exc.code},
            status=exc.status if exc.status < 500 else 503,
        )
    if request.user.is_authenticated:
        from django.contrib.auth import logout

        logout(request)
    login(request, result.user, backend="accounts.backends.ConsoleBackend")
    mark_recent_auth(request)
    preference = security_preference_of(result.user.account_id)
    request.session.set_expiry(preference.login_session_duration * 3600)
    console_session_start(request.session, result.user, mfa=False, meta=meta)
    request.session["sso"] = {"idp": result.identity.issuer}
    if result.provisioned:
        messages.info(request, "Welcome: your user was created from your identity provider.")
    relay = request.POST.get("RelayState", "")
    target = relay if relay.startswith("/console/") and "//" not in relay else "/console/"
    response = redirect(target)
    if answered := result.identity.in_response_to:  # a request is answered once
        _keep_requests(response, [entry for entry in requests if entry[1] != answered])
    return response


def _outstanding_requests(request: HttpRequest) -> list[list]:
    """This browser's unanswered AuthnRequests, [account uid, request ID, sent at], from a
    signed cookie: not the session, whose cookie (SameSite=Lax) a browser leaves out of the
    IdP's cross-site POST."""
    try:
        entries = signing.loads(request.COOKIES.get(REQUESTS_COOKIE, ""), salt=REQUESTS_COOKIE)
    except signing.BadSignature:
        return []
    now = time.time()
    return [entry for entry in entries if now - entry[2] < REQUEST_SECONDS]


def _keep_requests(response: HttpResponse, entries: list[list]) -> None:
    if not entries:
        response.delete_cookie(REQUESTS_COOKIE, path=REQUESTS_PATH, samesite="None")
        return
    response.set_cookie(
        REQUESTS_COOKIE,
        signing.dumps(entries[-MAX_OUTSTANDING_REQUESTS:], salt=REQUESTS_COOKIE),
        max_age=REQUEST_SECONDS,
        path=REQUESTS_PATH,
        secure=True,  # browsers keep Secure cookies of http://localhost too
        httponly=True,
        samesite="None",  # sent with the IdP's cross-site POST
    )


class SsoStartForm(forms.Form):
    account = forms.CharField(max_length=64, label="Account alias or ID")


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def sso_start(request: HttpRequest) -> HttpResponse:
    """SP-initiated: send the browser to the account's IdP with an AuthnRequest."""
    form = SsoStartForm(request.POST or request.GET or None)
    error = ""
    if form.is_bound and form.is_valid():
        account = _account_for(form.cleaned_data["account"])
        sso = sso_settings_of(account.pk) if account else None
        if account is None or sso is None or not sso.enabled:
            error = "Single sign-on is not enabled for that account."
        else:
            try:
                request_id, url = _authn_request(account, sso.metadata, sso.idp_entity_id)
            except IamError as exc:
                error = exc.message
            else:
                # A page that moves on by itself rather than a redirect: the console's CSP
                # (form-action 'self') forbids a form submission from ending on another site.
                response = render(request, "federation/sso_redirect.html", {"url": url})
                sent = [account.uid, request_id, int(time.time())]
                _keep_requests(response, [*_outstanding_requests(request), sent])
                return response
    return render(
        request,
        "federation/sso_start.html",
        {"form": form, "error": error},
        status=400 if error else 200,
    )


def _authn_request(account: Account, metadata: str, idp_entity_id: str) -> tuple[str, str]:
    """A signed AuthnRequest to the account's IdP: its ID and the URL that carries it."""
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.xmldsig import SIG_RSA_SHA256

    from federation.saml import _sp_config
    from federation.sp_keys import key_files

    try:
        with key_files() as files:
            client = Saml2Client(config=_sp_config(user_sp(account.uid), metadata, files))
            request_id, info = client.prepare_for_authenticate(
                entityid=idp_entity_id,
                relay_state="/console/",
                binding=BINDING_HTTP_REDIRECT,
                sigalg=SIG_RSA_SHA256,
            )
    except Exception as exc:
        raise IamError(
            "SsoUnavailable",
            f"The identity provider has no usable sign-in endpoint ({exc}).",
            status=400,
        ) from exc
    return str(request_id), dict(info["headers"])["Location"]


@login_not_required
def sp_metadata(request: HttpRequest, account_uid: str) -> HttpResponse:
    """Our user-SSO SP metadata for the account's IdP administrator."""
    if not Account.objects.filter(uid=account_uid).exists():
        return HttpResponse(status=404)
    return _metadata_response(user_sp(account_uid))


@login_not_required
def role_sp_metadata(request: HttpRequest) -> HttpResponse:
    """Our role-SSO SP metadata (one per installation)."""
    from federation.saml import role_sp

    return _metadata_response(role_sp())


def _metadata_response(sp: ServiceProvider) -> HttpResponse:
    from saml2 import BINDING_HTTP_POST
    from saml2.config import SPConfig
    from saml2.metadata import create_metadata_string

    from federation.saml import xmlsec_binary
    from federation.sp_keys import key_files

    try:
        xmlsec = xmlsec_binary()
    except IamError as exc:  # a clear answer instead of a 500
        return HttpResponse(exc.message, status=503, content_type="text/plain")
    with key_files() as (key_file, cert_file):
        config = SPConfig().load(
            {
                "xmlsec_binary": xmlsec,
                "entityid": sp.entity_id,
                "key_file": key_file,
                "cert_file": cert_file,
                "service": {
                    "sp": {
                        "endpoints": {
                            "assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]
                        },
                        "authn_requests_signed": True,
                        "want_assertions_or_response_signed": True,
                    }
                },
            }
        )
        xml = create_metadata_string(None, config=config)
    return HttpResponse(xml, content_type="application/samlmetadata+xml")


class SsoSettingsForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Enable single sign-on for RAM users")
    metadata = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "code"}),
        label="Identity provider metadata (XML)",
        help_text="Paste it, or choose the file below. Leave empty to keep the current one.",
    )
    metadata_file = forms.FileField(required=False, label="…or upload the metadata file")
    login_attribute = forms.CharField(
        required=False, max_length=256, label="Login name from attribute (empty = NameID)"
    )
    auxiliary_domain = forms.CharField(required=False, max_length=128, label="Auxiliary domain")
    provisioning = forms.BooleanField(
        required=False, label="Create unknown users at their first sign-in (provisioning)"
    )
    password_login_disabled = forms.BooleanField(
        required=False, label="Turn off password sign-in for RAM users (root keeps it)"
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def sso_settings(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:GetUserSsoSettings", f"acs:ram:*:{principal.account_uid}:*")
    sso = sso_settings_of(principal.account_id)
    initial = {
        "enabled": sso.enabled,
        "login_attribute": sso.login_attribute,
        "auxiliary_domain": sso.auxiliary_domain,
        "provisioning": sso.provisioning,
        "password_login_disabled": sso.password_login_disabled,
    }
    form = SsoSettingsForm(request.POST or None, request.FILES or None, initial=initial)
    sp = user_sp(principal.account_uid)
    from federation.sp_keys import certificate, fingerprint

    context = {
        "form": form,
        "sso": sso,
        "sp": sp,
        "sp_certificate": certificate(),
        "sp_fingerprint": fingerprint(),
        "metadata_url": request.build_absolute_uri(
            reverse("federation:sp_metadata", args=[principal.account_uid])
        ),
        "can_edit": allowed(
            principal, "ram:SetUserSsoSettings", f"acs:ram:*:{principal.account_uid}:*"
        ),
    }
    if request.method == "POST":
        require(principal, "ram:SetUserSsoSettings", f"acs:ram:*:{principal.account_uid}:*")
        if (
            step_up := step_up_redirect(request, next_url=reverse("federation:sso_settings"))
        ) is not None:
            return step_up
        if form.is_valid():
            data = form.cleaned_data
            metadata = data["metadata"]
            if data["metadata_file"]:
                metadata = data["metadata_file"].read(1_000_001).decode("utf-8", "replace")
            try:
                user_sso_set(
                    actor=principal,
                    enabled=data["enabled"],
                    metadata=metadata or None,
                    login_attribute=data["login_attribute"],
                    auxiliary_domain=data["auxiliary_domain"],
                    provisioning=data["provisioning"],
                    password_login_disabled=data["password_login_disabled"],
                )
            except IamError as exc:
                return render_error(request, "federation/sso_settings.html", context, exc)
            messages.success(request, "Single sign-on settings saved.")
            return redirect("federation:sso_settings")
        return render(request, "federation/sso_settings.html", context, status=400)
    return render(request, "federation/sso_settings.html", context)
