"""Hostile and awkward bundles end to end: upload, ``batch_validate``, the report.

Every archive, file and row code of spec §5 that ``test_validation`` does not
already show end to end has its own bundle here, built by code, and the exact
code and message a user sees is asserted on the batch, its file or its row.
"""

from __future__ import annotations

import codecs
import os
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports.models import BatchStatus, ImportBatch, RowIssue, RowStatus, StagedRow

from .bundles import HEADER, bundle_of, csv_bytes, row, zip_bytes
from .test_archive import (
    _CD_FLAGS,
    _CD_HEADER_OFFSET,
    PDF,
    PNG,
    REMAKE,
    entry,
    patch_central,
    xlsx_bytes,
    zip_of,
)
from .test_views import signed_in

GOOD = csv_bytes([row(1)])


def refused_with(batch: ImportBatch) -> tuple[str, str]:
    """The batch's one archive error, after checking it was refused with nothing staged."""
    assert batch.status == BatchStatus.REFUSED
    assert not StagedRow.objects.filter(batch=batch).exists()
    assert not batch.files.exists()
    (error,) = batch.archive_errors
    return error["code"], error["message"]


def file_error(batch: ImportBatch, path: str = "a.csv") -> tuple[str, str]:
    batch_file = batch.files.get(path=path)
    assert batch_file.rejected
    assert not StagedRow.objects.filter(file=batch_file).exists()
    (error,) = batch_file.errors
    return error["code"], error["message"]


def row_errors(batch: ImportBatch, po_number: str) -> list[tuple[str, str, str]]:
    return list(
        RowIssue.objects.filter(batch=batch, row__po_number=po_number, severity="error")
        .order_by("id")
        .values_list("code", "column", "message")
    )


# --- Archives: the whole upload is refused -----------------------------------


def test_a_pdf_renamed_zip_is_not_a_zip(validate):
    assert refused_with(validate(PDF, name="referrals.zip")) == (
        "archive.not_zip",
        "The upload is not a zip file, or the zip is damaged. Put the CSV files in a zip and upload that.",
    )


def test_a_truncated_zip_is_not_a_zip(validate):
    whole = bundle_of(row(1), row(2))
    assert refused_with(validate(whole[: len(whole) // 2]))[0] == "archive.not_zip"
    # Cut inside the central directory only: the entries' data is all there.
    assert refused_with(validate(whole[:-10]))[0] == "archive.not_zip"


def test_a_zip_without_a_csv_is_empty(validate):
    assert refused_with(
        validate(zip_bytes({"__MACOSX/._a.csv": b"\x00\x05", ".DS_Store": b"x"}))
    ) == (
        "archive.empty",
        "The zip has no CSV files in it (only folders and system files, which are ignored). "
        "Put the PRaP CSV files in the zip and upload again.",
    )


def test_an_upload_over_the_size_limit_is_refused_by_the_service(validate, settings):
    settings.PRAP_MAX_UPLOAD_BYTES = 200
    assert (
        refused_with(validate(bundle_of(*(row(n) for n in range(1, 20)))))[0] == "archive.too_large"
    )


def test_a_zip_of_100000_entries_is_refused_without_reading_them(validate, tmp_path: Path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as bundle:
        for n in range(100_000):
            bundle.writestr(f"{n}.csv", b"")
    assert refused_with(validate(path.read_bytes())) == (
        "archive.too_many_entries",
        "The zip holds 100,000 entries; at most 10,000 are allowed. Split the CSV files across several zips.",
    )


@pytest.fixture(scope="module")
def gigabyte_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A zip of about 1 MB whose one CSV entry inflates to 1 GB of spaces."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        with bundle.open("referrals.csv", "w", force_zip64=True) as stream:
            stream.write(GOOD)
            block = b" " * (1 << 20)
            for _ in range(1024):
                stream.write(block)
    return path.read_bytes()


def test_a_gigabyte_bomb_is_refused_and_memory_stays_flat(validate, gigabyte_bomb: bytes):
    tracemalloc.start()
    try:
        code, message = refused_with(validate(gigabyte_bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == "archive.ratio"
    assert message.startswith("'referrals.csv' claims to unzip from ")
    assert message.endswith(
        f"to 1.0 GB, more than 200 times its size, which is how zip bombs work. {REMAKE}"
    )
    # The upload itself is about 1 MB and is copied once into storage; nothing near 1 GB.
    assert peak < 40 * 1024 * 1024


def test_overlapping_entries_are_refused_as_a_zip_bomb(validate):
    data = patch_central(zip_of({"a.csv": GOOD, "b.csv": GOOD}), "b.csv", _CD_HEADER_OFFSET, 0)
    assert refused_with(validate(data)) == (
        "archive.ratio",
        f"The zip entries 'a.csv' and 'b.csv' share compressed data, a trick used by zip bombs. {REMAKE}",
    )


def test_files_adding_up_over_the_uncompressed_limit_are_refused(validate, settings):
    settings.PRAP_MAX_UNCOMPRESSED_BYTES = 2000
    data = zip_bytes(
        {
            "a.csv": csv_bytes([row(n) for n in range(1, 15)]),
            "b.csv": csv_bytes([row(n) for n in range(20, 35)]),
        }
    )
    assert refused_with(validate(data)) == (
        "archive.uncompressed_too_large",
        "The files in the zip add up to 3.0 KB unzipped, over the 2.0 KB limit. "
        "Split the CSV files across several uploads.",
    )


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        pytest.param(
            zip_bytes({"inner.csv": GOOD}),
            "more.zip",
            "The zip contains 'more.zip', which is itself an archive. "
            "Unzip it and put its CSV files straight into the zip you upload.",
            id="zip-in-zip",
        ),
        pytest.param(
            zip_bytes({"inner.csv": GOOD}),
            "referrals.csv",
            "'referrals.csv' is named like a CSV file but is a compressed archive (application/zip). "
            "Unzip it and put its CSV files straight into the zip you upload.",
            id="zip-named-csv",
        ),
    ],
)
def test_nested_archives_are_refused(validate, content, name, message):
    assert refused_with(validate(zip_bytes({"ok.csv": GOOD, name: content}))) == (
        "archive.nested_archive",
        message,
    )


@pytest.mark.parametrize(
    ("content", "what"),
    [
        pytest.param(PNG, "an image", id="png"),
        pytest.param(xlsx_bytes(), "an Excel workbook", id="xlsx"),
        pytest.param(PDF, "a PDF document", id="pdf"),
    ],
)
def test_a_csv_that_is_really_something_else_is_refused(validate, content, what):
    assert refused_with(validate(zip_bytes({"ok.csv": GOOD, "march/referrals.csv": content}))) == (
        "archive.not_csv",
        f"'march/referrals.csv' is named like a CSV file but holds {what}, not CSV text. "
        "Save it as CSV (UTF-8) and upload again.",
    )


def test_an_entry_not_named_csv_is_refused_naming_it(validate):
    assert refused_with(validate(zip_bytes({"ok.csv": GOOD, "notes.txt": b"hello"}))) == (
        "archive.not_csv",
        "The zip contains 'notes.txt', which is not a CSV file. Remove it and upload again.",
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.csv", "it contains '..'"),
        ("/etc/evil.csv", "it starts with '/'"),
        ("C:\\evil.csv", "it starts with a drive letter"),
        ("..\\..\\evil.csv", "it contains '..'"),
        ("reports\\evil.csv", "it contains a backslash"),
    ],
)
def test_an_unsafe_path_is_refused(validate, name, why):
    assert refused_with(validate(zip_of([("ok.csv", GOOD), (entry(name), GOOD)]))) == (
        "archive.unsafe_path",
        f"The zip entry '{name}' has an unsafe path: {why}. Zip the CSV files from an ordinary folder and upload again.",
    )


def test_a_symlink_entry_is_refused(validate):
    assert refused_with(
        validate(zip_of([(entry("passwd.csv", mode=0o120777), b"/etc/passwd")]))
    ) == (
        "archive.symlink",
        "The zip entry 'passwd.csv' is a symbolic link, not a file. Put the real file in the zip instead and upload again.",
    )


def test_an_encrypted_entry_is_refused(validate):
    data = patch_central(zip_of({"a.csv": GOOD, "b.csv": GOOD}), "b.csv", _CD_FLAGS, 0x1, "<H")
    assert refused_with(validate(data)) == (
        "archive.encrypted",
        "The zip entry 'b.csv' is protected by a password. Make the zip again without a password and upload it.",
    )


def test_an_lzma_entry_is_refused_naming_the_method(validate):
    data = zip_of([(entry("a.csv", compress_type=zipfile.ZIP_LZMA), GOOD)])
    assert refused_with(validate(data)) == (
        "archive.not_zip",
        f"The zip entry 'a.csv' is compressed with LZMA, which is not supported. {REMAKE}",
    )


def test_names_that_differ_only_in_case_are_refused(validate):
    assert refused_with(
        validate(zip_bytes({"March/a.csv": GOOD, "march/A.CSV": csv_bytes([row(2)])}))
    ) == (
        "archive.duplicate_name",
        "The zip contains both 'March/a.csv' and 'march/A.CSV', whose names differ only in case. "
        "Rename or remove one and upload again.",
    )


# --- A file name that is markup ----------------------------------------------

SCRIPT_NAME = "<script>alert(1)</script>.csv"


@pytest.fixture
def client_of_importer(importer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return signed_in(importer)


def post(client, content: bytes, name: str = "bundle.zip"):
    upload = SimpleUploadedFile(name, content, content_type="application/zip")
    return client.post(reverse("imports-upload"), {"bundle": upload, "create_new": "on"})


def test_a_script_file_name_is_shown_escaped_in_the_report(client_of_importer):
    post(client_of_importer, zip_bytes({SCRIPT_NAME: csv_bytes([row(1), row(2, Last_Name="")])}))
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.VALIDATED
    assert batch.files.get().path == SCRIPT_NAME
    page = client_of_importer.get(reverse("imports-batch", args=[batch.pk])).content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in page


def test_a_script_entry_name_is_shown_escaped_in_a_refusal(client_of_importer):
    name = "<img src=x onerror=alert(1)>.exe"
    post(client_of_importer, zip_bytes({"ok.csv": GOOD, name: b"MZ"}))
    batch = ImportBatch.objects.get()
    assert batch.archive_errors[0]["code"] == "archive.not_csv"
    page = client_of_importer.get(reverse("imports-batch", args=[batch.pk])).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.exe" in page


# --- Files: that file's rows are rejected, the others go on -------------------


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        pytest.param(
            b"",
            "file.empty",
            "The file is empty. Export it from PRaP again, or leave it out of the zip.",
            id="empty",
        ),
        pytest.param(
            b"\xef\xbb\xbf \r\n\r\n",
            "file.empty",
            "The file is empty. Export it from PRaP again, or leave it out of the zip.",
            id="bom-and-blank-lines",
        ),
        pytest.param(
            ",".join(HEADER).encode() + b"\r\n",
            "file.no_rows",
            "The file has a header row but no data rows. Export it again with the referrals in it, "
            "or leave it out of the zip.",
            id="header-only",
        ),
        pytest.param(
            GOOD + b"PO-2,\x81\x90\r\n",
            "file.undecodable",
            "The file can't be read as text: line 3 has a byte (0x81) that is neither UTF-8 nor "
            "Windows-1252. Save the file as 'CSV UTF-8' and upload again.",
            id="undecodable",
        ),
        pytest.param(
            b"PO Number,PO No,First Name,Last Name,NINO,Referral Date\r\n1,2,3,4,5,6\r\n",
            "file.duplicate_header",
            "The columns 'PO Number' and 'PO No' are the same column; keep one.",
            id="duplicate-header-aliases",
        ),
        pytest.param(
            csv_bytes([row(1)], header=[*HEADER, "Email Address"]).replace(
                b"Email Address\r\n", b"Email Address,Email Address\r\n", 1
            ),
            "file.duplicate_header",
            "The column 'Email Address' appears twice; keep one.",
            id="duplicate-header-same",
        ),
        pytest.param(
            GOOD + b'PO-2,01/03/2024,"Restart\r\nSch,A,B,QQ000002C,,,\r\nPO-3,01/03/2024\r\n',
            "file.bad_quoting",
            "The quote opened on line 3 is never closed.",
            id="unterminated-quote",
        ),
        pytest.param(
            b"First Name,Last Name\r\nA,B\r\n",
            "file.missing_columns",
            "The file has no National Insurance Number, PO Number or Referral Date column.",
            id="missing-columns",
        ),
    ],
)
def test_a_bad_file_is_rejected_and_the_others_go_on(validate, content, code, message):
    batch = validate(zip_bytes({"a.csv": content, "b.csv": csv_bytes([row(7)])}))
    assert batch.status == BatchStatus.VALIDATED
    assert file_error(batch) == (code, message)
    good = batch.files.get(path="b.csv")
    assert (good.rejected, good.row_count) == (False, 1)
    assert batch.accepted_count == 1


def test_a_file_with_too_many_rows_is_rejected_at_the_row_past_the_limit(validate, settings):
    settings.PRAP_MAX_ROWS_PER_FILE = 3
    batch = validate(zip_bytes({"a.csv": csv_bytes([row(n) for n in range(1, 5)])}))
    assert file_error(batch) == (
        "file.too_many_rows",
        "The file has more than 3 rows (line 5 is one too many). Split it into files of at most 3 rows "
        "and upload again.",
    )
    assert (batch.accepted_count, batch.rejected_count, batch.total_rows) == (0, 4, 4)


# --- Encodings, delimiters and line endings ----------------------------------


def names_of(batch: ImportBatch) -> list[tuple[int, str, str]]:
    return list(
        StagedRow.objects.filter(batch=batch)
        .order_by("line")
        .values_list("line", "first_name", "town")
    )


WELSH = [
    row(1, First_Name="Siân", Town="Llanelli"),
    row(2, First_Name="Gwenllïan", Town="Rhydaman"),
]
HEADER_TOWN = [*HEADER, "Town"]


def test_utf8_with_a_bom_is_read_as_utf8(validate):
    content = codecs.BOM_UTF8 + csv_bytes(WELSH, header=HEADER_TOWN)
    batch = validate(zip_bytes({"a.csv": content}))
    batch_file = batch.files.get()
    assert (batch_file.encoding, batch_file.warnings) == ("utf-8-sig", [])
    assert names_of(batch) == [(2, "Siân", "Llanelli"), (3, "Gwenllïan", "Rhydaman")]
    assert batch.accepted_count == 2


def test_utf8_without_a_bom_reads_welsh_letters_windows_1252_lacks(validate):
    content = csv_bytes([row(1, First_Name="Dŵr", Town="Ŵyn")], header=HEADER_TOWN)
    batch = validate(zip_bytes({"a.csv": content}))
    assert batch.files.get().encoding == "utf-8"
    assert names_of(batch) == [(2, "Dŵr", "Ŵyn")]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_and_tabs_is_read(validate, codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    content = bom + csv_bytes(WELSH, header=HEADER_TOWN, delimiter="\t", encoding=codec)
    batch = validate(zip_bytes({"a.csv": content}))
    batch_file = batch.files.get()
    assert (batch_file.encoding, batch_file.delimiter) == ("utf-16", "\t")
    assert names_of(batch) == [(2, "Siân", "Llanelli"), (3, "Gwenllïan", "Rhydaman")]
    assert batch.accepted_count == 2


def test_windows_1252_is_read_with_a_warning(validate):
    rows = [row(1, First_Name="Renée", Town="£ Town"), row(2, First_Name="Zoë", Town="Caerdydd")]
    batch = validate(zip_bytes({"a.csv": csv_bytes(rows, header=HEADER_TOWN, encoding="cp1252")}))
    batch_file = batch.files.get()
    assert batch_file.encoding == "cp1252"
    assert batch_file.warnings == [
        {
            "code": "file.decoded_cp1252",
            "message": "The file is not UTF-8, so it was read as Windows-1252 (Excel's usual CSV encoding). "
            "Check that letters such as é and symbols such as £ look right; saving the file as "
            "'CSV UTF-8' avoids this.",
        }
    ]
    assert names_of(batch) == [(2, "Renée", "£ Town"), (3, "Zoë", "Caerdydd")]


def test_a_welsh_letter_windows_1252_cannot_hold_arrives_as_excel_wrote_it(validate):
    # Excel's "CSV" (Windows-1252) writes ŵ as "?": the text is kept as it came, with the warning.
    content = csv_bytes([row(1, First_Name="D£r é")], header=HEADER_TOWN, encoding="cp1252")
    content = content.replace("£".encode("cp1252"), "ŵ".encode("cp1252", errors="replace"))
    batch = validate(zip_bytes({"a.csv": content}))
    assert batch.files.get().warnings[0]["code"] == "file.decoded_cp1252"
    assert names_of(batch) == [(2, "D?r é", "")]


def test_a_semicolon_file_is_read(validate):
    batch = validate(
        zip_bytes({"a.csv": csv_bytes([row(1, Programme="Work; Health"), row(2)], delimiter=";")})
    )
    batch_file = batch.files.get()
    assert batch_file.delimiter == ";"
    assert list(
        StagedRow.objects.filter(batch=batch).order_by("line").values_list("programme", flat=True)
    ) == [
        "Work; Health",
        "Restart Scheme",
    ]
    assert batch.accepted_count == 2


def test_mixed_line_endings_keep_line_numbers_right(validate):
    lines = [",".join(HEADER), *(",".join(row(n).values()) for n in range(1, 5))]
    text = (
        lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n" + lines[4] + "\n"
    )
    text = text.replace("Adams4", "")  # row 4 has no last name
    batch = validate(zip_bytes({"a.csv": text.encode()}))
    assert list(
        StagedRow.objects.filter(batch=batch).order_by("id").values_list("line", "po_number")
    ) == [
        (2, "PO-00001"),
        (3, "PO-00002"),
        (4, "PO-00003"),
        (5, "PO-00004"),
    ]
    assert row_errors(batch, "PO-00004") == [
        ("field.required", "Last Name", "Last Name is required.")
    ]


def test_a_quoted_address_with_a_line_break_keeps_later_line_numbers_right(validate):
    header = [*HEADER, "Address Line 1"]
    rows = [row(1, Address_Line_1="Flat 2\r\n10 High Street"), row(2, Postcode="BAD"), row(3)]
    batch = validate(zip_bytes({"a.csv": csv_bytes(rows, header=header)}))
    staged = dict(StagedRow.objects.filter(batch=batch).values_list("po_number", "line"))
    assert staged == {"PO-00001": 2, "PO-00002": 4, "PO-00003": 5}
    assert (
        StagedRow.objects.get(batch=batch, po_number="PO-00001").address_line_1
        == "Flat 2\r\n10 High Street"
    )
    assert [code for code, *_ in row_errors(batch, "PO-00002")] == ["postcode.format"]


def test_a_200_kb_field_is_too_long_and_the_row_is_reported(validate):
    header = [*HEADER, "Notes"]
    batch = validate(
        zip_bytes({"a.csv": csv_bytes([row(1, Notes="x" * 200_000), row(2)], header=header)})
    )
    assert row_errors(batch, "PO-00001") == [
        ("field.too_long", "Notes", "Notes is 200000 characters long; at most 2000 are allowed.")
    ]
    assert (batch.accepted_count, batch.rejected_count) == (1, 1)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("First Name", "Al\x00ice"),
        ("Address Line 1", "1 High St\u202e"),
        ("Town", "Cardiff\u2066"),
        ("Last Name", "Ad\u200bams"),
    ],
)
def test_nul_bytes_and_bidi_overrides_reject_the_row(validate, column, value):
    header = [*HEADER, "Address Line 1", "Town"]
    overrides = {column.replace(" ", "_"): value}
    batch = validate(zip_bytes({"a.csv": csv_bytes([row(1, **overrides), row(2)], header=header)}))
    assert row_errors(batch, "PO-00001") == [
        (
            "field.control_chars",
            column,
            f"{column} contains a hidden control character; remove it and upload again.",
        )
    ]
    assert StagedRow.objects.get(batch=batch, po_number="PO-00001").status == RowStatus.REJECTED
    assert batch.accepted_count == 1


def test_a_nino_without_a_suffix_is_accepted_with_a_warning(validate):
    batch = validate(bundle_of(row(1, National_Insurance_Number="QQ 00 00 01")))
    issue = RowIssue.objects.get(batch=batch)
    assert (issue.severity, issue.code, issue.column, issue.message) == (
        "warning",
        "nino.no_suffix",
        "National Insurance Number",
        "National Insurance number QQ000001 has no suffix letter.",
    )
    assert batch.accepted_count == 1


# --- Nothing left behind -----------------------------------------------------


def files_under(folder: Path) -> set[str]:
    return {os.path.join(root, name) for root, _, names in os.walk(folder) for name in names}


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Path:
    """Point the process's temporary folder at an empty one, so every file left there shows."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    settings.FILE_UPLOAD_TEMP_DIR = None
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # every upload goes through a temporary file
    return folder


def test_an_upload_over_the_limit_leaves_no_file_behind(
    client_of_importer, private_tempdir, settings
):
    settings.PRAP_MAX_UPLOAD_BYTES = 50_000
    media = Path(settings.MEDIA_ROOT)
    response = post(client_of_importer, os.urandom(60_000))
    assert response.status_code == 413
    assert not ImportBatch.objects.exists()
    assert files_under(private_tempdir) == set()
    assert files_under(media) == set()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(30_000), id="not-a-zip"),
        pytest.param(zip_bytes({"ok.csv": GOOD, "../evil.csv": GOOD}), id="unsafe-path"),
        pytest.param(zip_bytes({"ok.csv": GOOD, "x.csv": PNG + os.urandom(5000)}), id="png"),
    ],
)
def test_a_refused_archive_leaves_no_temporary_file(
    client_of_importer, private_tempdir, settings, content
):
    media = Path(settings.MEDIA_ROOT)
    post(client_of_importer, content)
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.REFUSED
    assert files_under(private_tempdir) == set()
    # Nothing of a refused upload is kept, not even the zip itself.
    assert not batch.bundle
    assert files_under(media) == set()


def test_a_validated_upload_leaves_no_temporary_file(client_of_importer, private_tempdir):
    post(client_of_importer, bundle_of(row(1), row(2)))
    assert ImportBatch.objects.get().status == BatchStatus.VALIDATED
    assert files_under(private_tempdir) == set()


def test_the_service_refuses_without_an_exception_escaping(validate, importer):
    # A file that is not even a zip, run through validation twice: refused both times, nothing raised.
    batch = validate(b"PK\x03\x04garbage")
    assert refused_with(batch)[0] == "archive.not_zip"
    batch = services.batch_validate(batch=batch)
    assert refused_with(batch)[0] == "archive.not_zip"
