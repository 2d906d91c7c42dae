from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from participants.models import Kind
from participants.selectors import DEFAULT_SORT, SORTS, email_in_use
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
