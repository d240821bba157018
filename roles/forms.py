import re

from django import forms

from sts.models import TrustedService

ACCOUNT_UID_RE = re.compile(r"^\d{16}$")

TRUST_KINDS = [
    ("account", "RAM identities of this account (their own policies decide who may)"),
    ("other_account", "RAM identities of another account (by account uid)"),
    ("user", "One RAM user of this account"),
    ("role", "Sessions of another role of this account (role chaining)"),
    ("service", "A registered service (e.g. a function platform)"),
    ("saml_provider", "A SAML identity provider of this account (role SSO), by provider name"),
    ("oidc_provider", "An OIDC identity provider of this account, by provider name"),
    ("custom", "Custom trust policy (JSON below)"),
]


class RoleForm(forms.Form):
    name = forms.CharField(
        max_length=64, label="Role name", help_text="1–64 letters, digits, '.' or '-'."
    )
    description = forms.CharField(
        max_length=1024, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    max_session_duration = forms.IntegerField(
        min_value=3600, max_value=43200, initial=3600, help_text="Seconds, 3600 to 43200."
    )
    trusted_kind = forms.ChoiceField(
        choices=TRUST_KINDS, widget=forms.RadioSelect, initial="account", label="Who may assume it"
    )
    trusted_value = forms.CharField(
        max_length=128,
        required=False,
        help_text="Account uid, user name, role name, service or identity provider "
        "name, for the choices that need one.",
    )
    external_id = forms.CharField(
        max_length=1224,
        required=False,
        label="ExternalId",
        help_text="Optional: callers must pass this ExternalId "
        "(protects against the confused deputy).",
    )
    document = forms.CharField(
        required=False,
        max_length=8000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "code"}),
        label="Trust policy (custom)",
    )

    def clean(self) -> dict:
        """Trust that can be honoured: another account by its 16-digit uid, a service that is
        registered with this installation."""
        data = super().clean() or {}
        kind, value = data.get("trusted_kind"), (data.get("trusted_value") or "").strip()
        if kind == "other_account" and value and not ACCOUNT_UID_RE.match(value):
            self.add_error(
                "trusted_value",
                f"An account uid is 16 digits (e.g. 1234567890123456); {value!r} is not one.",
            )
        if (
            kind == "service"
            and value
            and not TrustedService.objects.filter(name=value, active=True).exists()
        ):
            self.add_error(
                "trusted_value",
                f"No service named {value} is registered with this installation; "
                "an operator registers one with manage.py createservice.",
            )
        return data


class RoleEditForm(forms.Form):
    description = forms.CharField(
        max_length=1024, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    max_session_duration = forms.IntegerField(min_value=3600, max_value=43200)
    document = forms.CharField(
        max_length=8000,
        strip=False,
        label="Trust policy",
        widget=forms.Textarea(attrs={"rows": 12, "class": "code"}),
    )
    confirm_trust_change = forms.BooleanField(
        required=False,
        label=(
            "I understand: current callers may lose access, and newly trusted ones gain the "
            "role's permissions."
        ),
    )
