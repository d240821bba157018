from django import forms


class GroupForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        label="Group name",
        help_text="1–64 letters, digits, periods, underscores or hyphens.",
    )
    comments = forms.CharField(max_length=128, required=False)


class MemberForm(forms.Form):
    user = forms.CharField(max_length=64, label="User name")


class GroupPickForm(forms.Form):
    group = forms.CharField(max_length=64)
