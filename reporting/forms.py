from __future__ import annotations

from urllib.parse import urlencode

from django import forms

from imports.models import BatchStatus, ImportBatch
from participants.models import Kind
from reporting.fields import DEFAULT_REPORT_FIELDS, REPORT_FIELDS
from reporting.selectors import ReportDefinition, distinct_values

_FIELD_CHOICES = [(f.key, f.label) for f in REPORT_FIELDS]


class ReportForm(forms.Form):
    """The report builder: read from the query string, so a report is a link."""

    fields = forms.MultipleChoiceField(
        label="Columns", choices=_FIELD_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    programme = forms.ChoiceField(required=False)
    contract = forms.ChoiceField(required=False)
    referral_from = forms.DateField(label="Referred from", required=False)
    referral_to = forms.DateField(label="Referred to", required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), (Kind.PROSPECT.value, "Prospect"), (Kind.LEARNER.value, "Learner")],
    )
    pending = forms.ChoiceField(
        label="Pending version",
        required=False,
        choices=[("", "Any"), ("yes", "Has a pending version"), ("no", "No pending version")],
    )
    batch = forms.ModelChoiceField(
        label="Imported in batch",
        queryset=ImportBatch.objects.none(),
        required=False,
        empty_label="Any",
    )
    sort = forms.ChoiceField(label="Sort by", choices=_FIELD_CHOICES, required=False)
    direction = forms.ChoiceField(
        choices=[("asc", "Ascending"), ("desc", "Descending")], required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in ("programme", "contract"):
            choices = [(v, v) for v in distinct_values(field=name)]
            self.fields[name].choices = [("", "Any"), *choices]
        self.fields["batch"].queryset = ImportBatch.objects.filter(
            status=BatchStatus.IMPORTED
        ).order_by("-created_at", "-id")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("referral_from"), data.get("referral_to")
        if start and end and start > end:
            self.add_error("referral_to", "The end of the date range is before its start.")
        return data

    def definition(self) -> ReportDefinition:
        data = self.cleaned_data
        batch = data.get("batch")
        return ReportDefinition(
            fields=tuple(data.get("fields") or DEFAULT_REPORT_FIELDS),
            programme=data.get("programme") or "",
            contract=data.get("contract") or "",
            referral_from=data["referral_from"].isoformat() if data.get("referral_from") else "",
            referral_to=data["referral_to"].isoformat() if data.get("referral_to") else "",
            status=data.get("status") or "",
            pending=data.get("pending") or "",
            batch=batch.pk if batch else None,
            sort=data.get("sort") or "last_name",
            direction=data.get("direction") or "asc",
        )


def definition_query(definition: ReportDefinition) -> str:
    """The builder's query string for a definition (for links and saved reports)."""
    params: list[tuple[str, str]] = [("fields", key) for key in definition.fields]
    for name, value in definition.as_dict().items():
        if name != "fields" and value not in ("", None):
            params.append((name, str(value)))
    return urlencode(params)


def definition_from_saved(data: dict) -> ReportDefinition:
    """A saved definition, with unknown keys and columns dropped."""
    known = ReportDefinition.__dataclass_fields__
    values = {k: v for k, v in data.items() if k in known}
    values["fields"] = tuple(values.get("fields") or DEFAULT_REPORT_FIELDS)
    return ReportDefinition(**values)


class SaveReportForm(forms.Form):
    name = forms.CharField(label="Report name", max_length=100)
    shared = forms.BooleanField(label="Share with other staff who build reports", required=False)


class FeedTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="Say where you will use it, for example “Power BI monthly report”.",
    )
