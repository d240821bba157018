import re

from django import forms
from django.utils.html import escape

# An action as a request names it (cf. policies.engine.document.ACTION_RE, minus wildcards).
SIMULATED_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_.\-/]+$")

EXAMPLE_DOCUMENT = """{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ram:Get*", "ram:List*"],
      "Resource": "*"
    }
  ]
}"""


class PolicyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=128, label="Policy name", help_text="1–128 letters, digits or hyphens."
    )
    description = forms.CharField(
        max_length=1024, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    document = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        initial=EXAMPLE_DOCUMENT,
        max_length=50000,
        strip=False,
    )


class PolicyVersionForm(forms.Form):
    document = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        max_length=50000,
        strip=False,
    )
    set_as_default = forms.BooleanField(required=False, initial=True, label="Make it the default")
    rotate = forms.BooleanField(
        required=False, label="If 5 versions exist, delete the oldest non-default one"
    )


class PolicyDescriptionForm(forms.Form):
    description = forms.CharField(
        max_length=1024, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AttachForm(forms.Form):
    policy = forms.CharField(max_length=140, help_text="System/Name or Custom/Name")


class SimulatorForm(forms.Form):
    principal = forms.CharField(
        max_length=70,
        label="User or role",
        help_text=escape("A user name, or role/<role name> for a role's session"),
    )
    actions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text="One action per line: ram:CreateUser, or a resource service's, e.g. "
        "oss:GetObject",
        initial="ram:ListUsers\nram:CreateUser",
    )
    resource = forms.CharField(
        max_length=512,
        required=False,
        help_text=escape(
            "Leave empty to use * ; e.g. acs:ram:*:<uid>:user/alice or acs:oss:*:<uid>:bucket/key"
        ),
    )
    source_ip = forms.GenericIPAddressField(required=False, label="acs:SourceIp")
    current_time = forms.DateTimeField(
        required=False,
        label="acs:CurrentTime",
        help_text="ISO 8601, e.g. 2026-01-01T12:00:00Z; empty = now",
    )
    secure_transport = forms.BooleanField(required=False, label="acs:SecureTransport")
    mfa_present = forms.BooleanField(required=False, label="acs:MFAPresent")

    def clean_actions(self) -> list[str]:
        """The actions, one a line: `<service>:<Action>` as a request names it (no wildcards,
        at most 50), whichever service decides it."""
        actions = [a.strip() for a in self.cleaned_data["actions"].splitlines() if a.strip()]
        wrong = [a for a in actions if not SIMULATED_ACTION_RE.match(a)]
        if wrong:
            raise forms.ValidationError(
                "Name each action as <service>:<Action>, e.g. ram:CreateUser or oss:GetObject "
                f"(no wildcards): {', '.join(wrong[:5])}"
            )
        if not actions or len(actions) > 50:
            raise forms.ValidationError("Simulate 1 to 50 actions at a time.")
        return actions
