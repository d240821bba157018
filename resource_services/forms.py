from django import forms


class DataEventsForm(forms.Form):
    """The account's switch for allowed resource-service decisions in the audit log."""

    record_allowed = forms.BooleanField(
        required=False,
        label="Record allowed resource-service decisions (data events)",
        help_text="Denials and failed authentications are always recorded.",
    )
