from django import forms


class ImportForm(forms.Form):
    update_by_nino = forms.BooleanField(
        required=False, label="Update existing records matched by National Insurance number"
    )
    update_by_email = forms.BooleanField(
        required=False, label="Update existing records matched by email"
    )
    create_new = forms.BooleanField(required=False, label="Create new records as prospects")
    bundle = forms.FileField(
        label="Zip of PRaP CSV files",
        help_text="A .zip file holding one or more CSV files downloaded from PRaP.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if not (
            cleaned.get("update_by_nino")
            or cleaned.get("update_by_email")
            or cleaned.get("create_new")
        ):
            raise forms.ValidationError("Tick at least one thing the import may do.")
        return cleaned
