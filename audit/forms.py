from django import forms

from audit.models import AuditEvent

OUTCOME_CHOICES = [
    ("", "Any outcome"),
    ("failed", "Failed (denied or error)"),
    *AuditEvent.Outcome.choices,
]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class EventFilterForm(forms.Form):
    """The event list's filters (GET); every field is optional and bounded."""

    since = forms.DateTimeField(required=False, input_formats=DATETIME_FORMATS, label="From (UTC)")
    until = forms.DateTimeField(required=False, input_formats=DATETIME_FORMATS, label="To (UTC)")
    actor = forms.CharField(required=False, max_length=512, label="Actor (ARN or user name)")
    action = forms.CharField(required=False, max_length=128, label="Action (e.g. ram:*)")
    outcome = forms.ChoiceField(required=False, choices=OUTCOME_CHOICES)
    source_ip = forms.GenericIPAddressField(required=False, label="Source IP")
    target = forms.CharField(required=False, max_length=512, label="Target ARN")
    credential = forms.CharField(required=False, max_length=128, label="Credential")
    service = forms.CharField(required=False, max_length=128, label="Service (e.g. oss.example)")
    q = forms.CharField(required=False, max_length=128, label="Search")

    def clean_service(self) -> str:
        """Service names are lowercase (see sts.service_principals)."""
        return self.cleaned_data["service"].strip().lower()

    def filters(self) -> dict:
        """The valid, non-empty filters (call after is_valid)."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class LockdownForm(forms.Form):
    reason = forms.CharField(
        max_length=256, min_length=3, label="Reason (recorded in the audit log)"
    )


class RetentionForm(forms.Form):
    days = forms.IntegerField(min_value=30, max_value=3650, label="Keep events online for (days)")
