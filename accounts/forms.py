from django import forms
from django.utils.html import escape

from accounts.services import POLICY_FIELDS


class LoginForm(forms.Form):
    login = forms.CharField(max_length=320, label="Login name or root email")
    # Not required: a missing password is checked, and counted, like a wrong one.
    password = forms.CharField(
        widget=forms.PasswordInput, strip=False, max_length=4096, required=False
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        widget=forms.PasswordInput, strip=False, max_length=4096, label="Current password"
    )
    new_password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=4096)
    confirm_password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=4096)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if data.get("new_password") != data.get("confirm_password"):
            raise forms.ValidationError("The new passwords don't match.")
        return data


ACCESS_CHOICES = [
    ("console", "Console access — a person signs in with a password"),
    ("programmatic", "Programmatic access — a program signs API calls with AccessKeys"),
    ("both", "Both (rarely right: keep people and programs apart)"),
]


class UserCreateForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        label="User name",
        help_text="1–64 letters, digits, periods, underscores or hyphens.",
    )
    display_name = forms.CharField(max_length=128, required=False)
    email = forms.CharField(max_length=254, required=False)
    mobile_phone = forms.CharField(
        max_length=32, required=False, help_text="Country code, hyphen, number: 86-18600008888"
    )
    comments = forms.CharField(max_length=128, required=False)
    access = forms.ChoiceField(choices=ACCESS_CHOICES, widget=forms.RadioSelect, initial="console")
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), strip=False, required=False, max_length=4096
    )
    password_reset_required = forms.BooleanField(
        required=False, initial=True, label="Require a new password at next login"
    )


class UserEditForm(forms.Form):
    new_name = forms.CharField(max_length=64, label="User name")
    display_name = forms.CharField(max_length=128, required=False)
    email = forms.CharField(max_length=254, required=False)
    mobile_phone = forms.CharField(max_length=32, required=False)
    comments = forms.CharField(max_length=128, required=False)
    programmatic_access = forms.BooleanField(required=False)


class LoginProfileForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput,
        strip=False,
        required=False,
        max_length=4096,
        help_text="Leave empty to keep the password.",
    )
    password_reset_required = forms.BooleanField(
        required=False, label="Require a new password at next login"
    )
    mfa_bind_required = forms.BooleanField(
        required=False, label="Require MFA binding at next login"
    )


class AdministratorForm(forms.Form):
    name = forms.CharField(max_length=64, initial="admin", label="User name")
    display_name = forms.CharField(max_length=128, required=False, initial="Administrator")
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=4096)


class PasswordPolicyForm(forms.Form):
    minimum_password_length = forms.IntegerField(min_value=8, max_value=32)
    require_lowercase_characters = forms.BooleanField(required=False)
    require_uppercase_characters = forms.BooleanField(required=False)
    require_numbers = forms.BooleanField(required=False)
    require_symbols = forms.BooleanField(required=False)
    block_common_passwords = forms.BooleanField(required=False)
    hard_expiry = forms.BooleanField(
        required=False, label="Hard expiry: an expired password blocks login"
    )
    max_password_age = forms.IntegerField(
        min_value=0, max_value=1095, help_text="Days; 0 means never expires."
    )
    password_reuse_prevention = forms.IntegerField(min_value=0, max_value=24)
    max_login_attempts = forms.IntegerField(
        min_value=0, max_value=32, help_text="Failures per hour before a one-hour lock."
    )

    field_order = list(POLICY_FIELDS)


class SecurityPreferenceForm(forms.Form):
    allow_user_to_change_password = forms.BooleanField(
        required=False, label="Users may change their own password"
    )
    allow_user_to_manage_access_keys = forms.BooleanField(
        required=False, label="Users may manage their own AccessKeys"
    )
    allow_user_to_manage_mfa_devices = forms.BooleanField(
        required=False, label="Users may manage their own MFA devices"
    )
    enable_save_mfa_ticket = forms.BooleanField(
        required=False, label="Allow “remember this device for 7 days” after MFA"
    )
    mfa_requirement = forms.ChoiceField(
        choices=[
            ("off", "Not required"),
            ("admins", "Required for administrators"),
            ("all", "Required for all console users"),
        ],
        label="Require MFA at sign-in",
        help_text="Users without a device are led to bind one at their next sign-in.",
    )
    login_session_duration = forms.IntegerField(
        min_value=1, max_value=24, help_text="Hours a console session lasts."
    )
    login_network_masks = forms.CharField(
        max_length=512,
        required=False,
        help_text="Console sign-in only from these networks: CIDRs separated by ';'. "
        "Empty = anywhere. API calls are not affected.",
    )


class AliasForm(forms.Form):
    alias = forms.CharField(
        max_length=32,
        required=False,
        help_text=escape(
            "3–32 lowercase letters, digits and hyphens. Empty clears it: "
            "users then sign in as name@<account uid>.<domain>."
        ),
    )


class KeyRotationForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Enforce the rotation policy")
    max_age_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        label="Maximum key age (days)",
        help_text="0 = no age limit. CIS recommends 90.",
    )
    warn_before_days = forms.IntegerField(
        min_value=0, max_value=365, label="Warn this many days before"
    )
    unused_days = forms.IntegerField(
        min_value=0, max_value=3650, label="Unused for (days)", help_text="0 = no unused rule."
    )
    action = forms.ChoiceField(
        choices=[("notify", "Notify only"), ("deactivate", "Deactivate the key")]
    )
    delete_after_deactivated_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        label="Delete deactivated keys after (days)",
        help_text="0 = never delete.",
    )
    rotation_grace_days = forms.IntegerField(
        min_value=0,
        max_value=90,
        label="Rotation grace period (days)",
        help_text="After “Rotate”, the old key stays active this long.",
    )


class KeyExemptForm(forms.Form):
    until = forms.DateField(label="Exempt until", help_text="YYYY-MM-DD")
    reason = forms.CharField(max_length=256)
