"""Validation of whole bundles through the service: codes, lines, counts."""

from __future__ import annotations

import pytest

from imports.models import BatchStatus, RowIssue, RowStatus, StagedRow

from .bundles import HEADER, bundle_of, csv_bytes, row, zip_bytes


def codes(batch) -> list[str]:
    return sorted(RowIssue.objects.filter(batch=batch).values_list("code", flat=True))


def test_it_accepts_a_clean_bundle_and_plans_creates(validate):
    batch = validate(bundle_of(row(1), row(2), row(3)))
    assert batch.status == BatchStatus.VALIDATED
    assert (batch.accepted_count, batch.rejected_count, batch.total_rows) == (3, 0, 3)
    assert set(StagedRow.objects.filter(batch=batch).values_list("action", flat=True)) == {"create"}


def test_it_stores_normalised_values_on_the_staged_row(validate):
    batch = validate(
        bundle_of(
            row(
                1,
                National_Insurance_Number="qq 12 34 56 c",
                Postcode="cf101aa",
                Email_Address="Alice@Example.COM",
            )
        )
    )
    staged = StagedRow.objects.get(batch=batch)
    assert (staged.nino, staged.postcode, staged.email) == (
        "QQ123456C",
        "CF10 1AA",
        "alice@example.com",
    )
    assert staged.referral_date.isoformat() == "2024-03-01"


@pytest.mark.parametrize(
    ("overrides", "code", "column"),
    [
        ({"Last_Name": ""}, "field.required", "Last Name"),
        ({"First_Name": "A" * 101}, "field.too_long", "First Name"),
        ({"First_Name": "Al\u202eice"}, "field.control_chars", "First Name"),
        ({"National_Insurance_Number": "QQ12"}, "nino.format", "National Insurance Number"),
        ({"National_Insurance_Number": "ZZ123456C"}, "nino.prefix", "National Insurance Number"),
        ({"Referral_Date": "31/02/2024"}, "date.format", "Referral Date"),
        ({"Referral_Date": "01/01/2099"}, "date.future", "Referral Date"),
        ({"Date_of_Birth": "01/01/2015"}, "date_of_birth.range", "Date of Birth"),
        ({"Postcode": "NOT A CODE"}, "postcode.format", "Postcode"),
        ({"Email_Address": "someone.at.example.com"}, "email.format", "Email Address"),
        ({"PO_Number": "PO 1#"}, "po_number.format", "PO Number"),
    ],
)
def test_it_rejects_a_row_with_the_contracts_code(validate, overrides, code, column):
    batch = validate(bundle_of(row(1, **overrides), row(2)))
    issue = RowIssue.objects.get(batch=batch, severity="error")
    assert (issue.code, issue.column) == (code, column)
    assert issue.row.status == RowStatus.REJECTED
    assert (batch.accepted_count, batch.rejected_count) == (1, 1)


def test_it_rejects_phone_and_flag_values_it_cannot_read(validate):
    rows = [row(1, Mobile_Number="7700900123", Disability_Status="Maybe")]
    batch = validate(zip_bytes({"a.csv": csv_bytes(rows)}))
    assert codes(batch) == ["flag.format", "phone.format"]


def test_it_reports_a_misshapen_row_without_shifting_others(validate):
    text = csv_bytes([row(1), row(2)]).decode() + "PO-9,too,few\r\n"
    batch = validate(zip_bytes({"a.csv": text}))
    issue = RowIssue.objects.get(batch=batch)
    assert (issue.code, issue.row.line, issue.row.po_number) == ("row.shape", 4, "PO-9")
    assert (batch.accepted_count, batch.rejected_count) == (2, 1)


def test_it_rejects_every_copy_of_a_duplicated_po_number(validate):
    batch = validate(bundle_of(row(1), row(2, PO_Number="PO-00001"), row(3)))
    issues = RowIssue.objects.filter(batch=batch, code="po_number.duplicate")
    assert issues.count() == 2
    assert (
        issues.first().message
        == "PO number PO-00001 appears 2 times in this bundle; every copy is rejected."
    )
    assert batch.accepted_count == 1


def test_it_rejects_rows_sharing_a_nino_naming_the_other_po_numbers(validate):
    batch = validate(bundle_of(row(1), row(2, National_Insurance_Number="QQ000001C"), row(3)))
    messages = sorted(
        RowIssue.objects.filter(batch=batch, code="nino.duplicate").values_list(
            "message", flat=True
        )
    )
    assert messages == [
        "This National Insurance number is also on PO number PO-00001; every such row is rejected.",
        "This National Insurance number is also on PO number PO-00002; every such row is rejected.",
    ]


def test_it_rejects_one_email_on_rows_with_different_ninos(validate):
    batch = validate(
        bundle_of(
            row(1, Email_Address="same@example.com"), row(2, Email_Address="SAME@example.com")
        )
    )
    assert codes(batch) == ["email.duplicate", "email.duplicate"]
    assert batch.accepted_count == 0


def test_line_numbers_count_physical_lines_across_quoted_line_breaks(validate):
    rows = [row(1, Notes="line one\nline two"), row(2, Last_Name="")]
    header = [*HEADER, "Notes"]
    batch = validate(zip_bytes({"a.csv": csv_bytes(rows, header=header)}))
    assert StagedRow.objects.get(batch=batch, po_number="PO-00002").line == 4


def test_a_rejected_file_does_not_stop_the_others(validate):
    bad = b"First Name,Last Name\r\nA,B\r\n"
    batch = validate(zip_bytes({"bad.csv": bad, "good/ok.csv": csv_bytes([row(1)])}))
    files = {f.path: f for f in batch.files.all()}
    assert files["bad.csv"].rejected
    assert files["bad.csv"].errors[0]["code"] == "file.missing_columns"
    assert files["good/ok.csv"].row_count == 1
    assert (batch.accepted_count, batch.rejected_count) == (1, 1)


def test_unknown_columns_are_kept_as_extra_fields_with_a_warning(validate):
    rows = [{**row(1), "Favourite Colour": "Teal"}]
    batch = validate(zip_bytes({"a.csv": csv_bytes(rows)}))
    assert StagedRow.objects.get(batch=batch).extra == {"Favourite Colour": "Teal"}
    assert [w["code"] for w in batch.files.get().warnings] == ["file.unknown_columns"]


def test_a_refused_archive_stages_nothing(validate):
    batch = validate(b"%PDF-1.4 this is not a zip")
    assert batch.status == BatchStatus.REFUSED
    assert batch.archive_errors[0]["code"] == "archive.not_zip"
    assert not StagedRow.objects.filter(batch=batch).exists()


def test_a_prospect_without_email_gets_a_warning_not_an_error(validate):
    batch = validate(bundle_of(row(1, Email_Address="")))
    issue = RowIssue.objects.get(batch=batch)
    assert (issue.severity, issue.code) == ("warning", "email.missing")
    assert batch.accepted_count == 1


def test_validating_again_starts_from_scratch(validate):
    from imports import services

    batch = validate(bundle_of(row(1), row(2, Last_Name="")))
    batch = services.batch_validate(batch=batch)
    assert StagedRow.objects.filter(batch=batch).count() == 2
    assert RowIssue.objects.filter(batch=batch).count() == 1
