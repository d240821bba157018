"""Console pages for the account's identity providers (SAML and OIDC)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.console import confirm, handle_iam_errors, render_error
from accounts.errors import IamError
from federation import services
from federation.models import OIDCProvider, SAMLProvider
from federation.saml import role_sp
from policies.guards import allowed

MAX_UPLOAD = 1_000_000


def _resource(principal, kind: str) -> str:  # type: ignore[no-untyped-def]
    return f"acs:ram:*:{principal.account_uid}:{kind}/*"


def _upload(field: object) -> str:
    return field.read(MAX_UPLOAD + 1).decode("utf-8", "replace") if field else ""  # type: ignore[attr-defined]


@handle_iam_errors
def provider_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    can_saml = allowed(principal, "ram:ListSAMLProviders", _resource(principal, "saml-provider"))
    can_oidc = allowed(principal, "ram:ListOIDCProviders", _resource(principal, "oidc-provider"))
    if not (can_saml or can_oidc):
        from policies.guards import require

        require(principal, "ram:ListSAMLProviders", _resource(principal, "saml-provider"))
    saml = (
        SAMLProvider.objects.filter(account_id=principal.account_id).select_related("account")
        if can_saml
        else None
    )
    oidc = (
        OIDCProvider.objects.filter(account_id=principal.account_id).select_related("account")
        if can_oidc
        else None
    )
    return render(
        request,
        "federation/provider_list.html",
        {
            "saml": saml,
            "oidc": oidc,
            "role_sp": role_sp(),
            "can_create_saml": allowed(
                principal, "ram:CreateSAMLProvider", _resource(principal, "saml-provider")
            ),
            "can_create_oidc": allowed(
                principal, "ram:CreateOIDCProvider", _resource(principal, "oidc-provider")
            ),
        },
    )


class SamlProviderForm(forms.Form):
    name = forms.CharField(max_length=128, label="Name")
    description = forms.CharField(max_length=256, required=False)
    metadata = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code"}),
        label="IdP metadata (XML)",
    )
    metadata_file = forms.FileField(required=False, label="…or upload the metadata file")


class OidcProviderForm(forms.Form):
    name = forms.CharField(max_length=128, label="Name")
    issuer_url = forms.CharField(max_length=255, label="Issuer URL (https://…)")
    client_ids = forms.CharField(
        max_length=4096, required=False, label="Client IDs (comma-separated)"
    )
    fingerprints = forms.CharField(
        max_length=512, required=False, label="Certificate fingerprints (SHA-1, comma-separated)"
    )
    jwks = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code"}),
        label="Signing keys (JWKS document, public keys)",
        help_text="Tokens can be verified only with the provider's keys.",
    )
    jwks_file = forms.FileField(required=False, label="…or upload the JWKS file")
    issuance_limit_hours = forms.IntegerField(min_value=1, max_value=168, initial=12)
    description = forms.CharField(max_length=256, required=False)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def saml_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    form = SamlProviderForm(request.POST or None, request.FILES or None)
    context = {"form": form, "kind": "SAML"}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            provider = services.saml_provider_create(
                actor=principal,
                name=data["name"],
                metadata=_upload(data["metadata_file"]) or data["metadata"],
                description=data["description"],
            )
        except IamError as exc:
            return render_error(request, "federation/provider_form.html", context, exc)
        messages.success(request, f"SAML provider {provider.name} created.")
        return redirect("federation:provider_list")
    status = 400 if form.is_bound else 200
    return render(request, "federation/provider_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def oidc_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    form = OidcProviderForm(request.POST or None, request.FILES or None)
    context = {"form": form, "kind": "OIDC"}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            provider = services.oidc_provider_create(
                actor=principal,
                name=data["name"],
                issuer_url=data["issuer_url"],
                client_ids=data["client_ids"],
                fingerprints=data["fingerprints"],
                jwks=_upload(data["jwks_file"]) or data["jwks"],
                issuance_limit_hours=data["issuance_limit_hours"],
                description=data["description"],
            )
        except IamError as exc:
            return render_error(request, "federation/provider_form.html", context, exc)
        messages.success(request, f"OIDC provider {provider.name} created.")
        return redirect("federation:provider_list")
    status = 400 if form.is_bound else 200
    return render(request, "federation/provider_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def provider_delete(request: HttpRequest, kind: str, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    provider: SAMLProvider | OIDCProvider
    if kind not in ("saml", "oidc"):
        from django.http import Http404

        raise Http404("No such kind of provider.")
    if kind == "saml":
        provider = services.saml_provider_for_actor(principal, name, "ram:DeleteSAMLProvider")
    else:
        provider = services.oidc_provider_for_actor(principal, name, "ram:DeleteOIDCProvider")
    if request.method == "POST":
        services.provider_delete(actor=principal, provider=provider)
        messages.success(request, f"Provider {provider.name} deleted.")
        return redirect("federation:provider_list")
    return confirm(
        request,
        title=f"Delete identity provider {provider.name}?",
        message="Roles that trust it stop accepting its assertions or tokens at once. Role "
        "sessions already issued keep working until they expire or are revoked.",
        action_url=reverse("federation:provider_delete", args=[kind, provider.name]),
        cancel_url=reverse("federation:provider_list"),
        button="Delete provider",
    )


def jwks_keys(provider: OIDCProvider) -> int:
    return len(json.loads(provider.jwks)["keys"]) if provider.jwks else 0
