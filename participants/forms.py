from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from participants.models import Kind
from participants.selectors import ACCESS_ACTIONS, DEFAULT_SORT, SORTS, email_in_use
from participants.services import EMAIL_TAKEN


class ParticipantFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=254,
        help_text="Name, National Insurance number, email or PO number",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "All"), (Kind.PROSPECT.value, "Prospect"), (Kind.LEARNER.value, "Learner")],
    )
    programme = forms.ChoiceField(label="Programme", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        initial=DEFAULT_SORT,
    )

    def __init__(self, *args: object, programmes: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [("", "All")] + [(p, p) for p in programmes]


class AccessLogFilterForm(forms.Form):
    user = forms.CharField(label="Staff member", required=False, max_length=150)
    action = forms.ChoiceField(
        label="What", required=False, choices=[("", "All"), *ACCESS_ACTIONS.items()]
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    participant = forms.CharField(
        label="Participant",
        required=False,
        max_length=100,
        help_text="National Insurance number or name",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The From date must be on or before the To date.")
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(label="Note", max_length=5000, widget=forms.Textarea)


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)

    def __init__(self, *args: object, user_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = user_id

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email_in_use(email=email, exclude_user_id=self.user_id):
            raise forms.ValidationError(EMAIL_TAKEN)
        return email


class ChoosePasswordForm(SetPasswordForm):
    """Django's own password form, so the configured password validators apply."""
