"""One CSV entry: its encoding, delimiter, header, records and every way it is rejected."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imports.pipeline import csvfile
from imports.pipeline.archive import ArchiveLimits, ArchiveRefused, Bundle
from imports.pipeline.csvfile import CsvFile, FileRejected, Record, open_csv

HEADER = "First Name,Last Name,National Insurance Number,PO Number,Referral Date"
FIELDS = ["first_name", "last_name", "nino", "po_number", "referral_date"]
ROW = "Ann,Smith,QQ123456C,PO-1,01/03/2024"
SAVE_AS_UTF8 = "Save the file as 'CSV UTF-8' and upload again."


def text(*lines: str, end: str = "\r\n") -> str:
    return "".join(line + end for line in lines)


def parse(data: bytes | str, *, max_rows: int = 100) -> CsvFile:
    content = data.encode() if isinstance(data, str) else data
    return open_csv(lambda: io.BytesIO(content), max_rows=max_rows)


def records(data: bytes | str, *, size: int = 2, max_rows: int = 100) -> list[Record]:
    return [record for chunk in parse(data, max_rows=max_rows).chunks(size) for record in chunk]


def rejection(data: bytes | str, *, max_rows: int = 100) -> FileRejected:
    """The rejection of a file, whether open_csv or the records find it."""
    with pytest.raises(FileRejected) as caught:
        records(data, max_rows=max_rows)
    return caught.value


def assert_rejected(data: bytes | str, code: str, message: str, line: int | None = None) -> None:
    rejected = rejection(data)
    assert (rejected.code, rejected.message, rejected.line) == (code, message, line)


# Encodings


def test_it_reads_utf8_with_letters_windows_1252_lacks() -> None:
    csv_file = parse(text(HEADER, "Siân,Ŵyn,QQ123456C,PO-1,01/03/2024"))
    assert (csv_file.encoding, csv_file.warnings) == ("utf-8", [])
    assert records(text(HEADER, "Siân,Ŵyn,QQ123456C,PO-1,01/03/2024"))[0].values[:2] == [
        "Siân",
        "Ŵyn",
    ]


def test_it_reads_utf8_with_a_bom_and_drops_the_bom() -> None:
    data = b"\xef\xbb\xbf" + text(HEADER, ROW).encode()
    csv_file = parse(data)
    assert (csv_file.encoding, csv_file.headers[0], csv_file.fields) == (
        "utf-8-sig",
        "First Name",
        FIELDS,
    )
    assert [r.values for r in records(data)] == [ROW.split(",")]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_it_reads_utf16_with_a_bom_and_tabs(codec: str) -> None:
    data = text("\ufeff" + HEADER.replace(",", "\t"), "Siân\tŴyn\tQQ123456C\tPO-1\t01/03/2024")
    csv_file = parse(data.encode(codec))
    assert (csv_file.encoding, csv_file.delimiter, csv_file.fields) == ("utf-16", "\t", FIELDS)
    assert records(data.encode(codec)) == [
        Record(2, ["Siân", "Ŵyn", "QQ123456C", "PO-1", "01/03/2024"], True)
    ]


def test_it_reads_windows_1252_with_a_warning() -> None:
    data = text(HEADER + ",Notes", ROW + ",André owes £5").encode("cp1252")
    csv_file = parse(data)
    assert csv_file.encoding == "cp1252"
    assert csv_file.warnings == [
        (
            "file.decoded_cp1252",
            "The file is not UTF-8, so it was read as Windows-1252 (Excel's usual CSV encoding). "
            "Check that letters such as é and symbols such as £ look right; saving the file as "
            "'CSV UTF-8' avoids this.",
        )
    ]
    assert records(data)[0].values[-1] == "André owes £5"


def test_it_rejects_bytes_no_allowed_encoding_can_read() -> None:
    data = text(HEADER, ROW).encode() + b"Bob,Jones\x81,QQ123456D,PO-2,01/03/2024\r\n"
    assert_rejected(
        data,
        "file.undecodable",
        "The file can't be read as text: line 3 has a byte (0x81) that is neither UTF-8 nor "
        f"Windows-1252. {SAVE_AS_UTF8}",
        3,
    )


def test_it_rejects_a_utf8_bom_file_with_bytes_that_are_not_utf8() -> None:
    data = b"\xef\xbb\xbf" + text(HEADER, ROW, ROW).encode() + b"Andr\xe9,Smith\r\n"
    assert_rejected(
        data,
        "file.undecodable",
        "The file starts with a UTF-8 byte order mark, but line 4 has bytes that are not "
        f"valid UTF-8. {SAVE_AS_UTF8}",
        4,
    )


def test_it_rejects_a_utf16_bom_file_that_is_not_utf16() -> None:
    data = text("\ufeff" + HEADER, ROW).encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate
    assert_rejected(
        data,
        "file.undecodable",
        f"The file starts with a UTF-16 byte order mark but is not valid UTF-16. {SAVE_AS_UTF8}",
    )


# Delimiters and lines


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_it_detects_the_delimiter_from_the_header(delimiter: str) -> None:
    data = text(
        HEADER.replace(",", delimiter),
        "Ann,Jo" + delimiter + ROW.split(",", 1)[1].replace(",", delimiter),
    )
    csv_file = parse(data)
    assert (csv_file.delimiter, csv_file.fields) == (delimiter, FIELDS)
    assert records(data)[0].values[:2] == ["Ann,Jo", "Smith"]


def test_it_counts_delimiters_outside_quotes_only() -> None:
    header = HEADER + ',"a;b;c;d;e;f;g"'
    assert parse(text(header, ROW + ",x")).delimiter == ","


def test_it_uses_a_comma_on_a_tie() -> None:
    header = HEADER + ",a;b;c;d;e;f"  # five of each
    csv_file = parse(text(header, ROW + ",x"))
    assert (csv_file.delimiter, csv_file.headers[-1]) == (",", "a;b;c;d;e;f")


def test_it_numbers_lines_across_mixed_line_endings() -> None:
    data = HEADER + "\r\n" + ROW + "\n" + ROW + "\r" + ROW + "\r\n" + ROW
    assert [r.line for r in records(data)] == [2, 3, 4, 5]


def test_a_quoted_line_break_keeps_later_line_numbers_right() -> None:
    data = text(
        HEADER + ",Address Line 1",
        ROW + ',"Flat 1',
        '2 High Street"',
        ROW + ",3 Low Road",
        ROW + ',"a\r\nb\rc"',
        ROW + ",last",
    )
    found = records(data)
    assert [(r.line, r.values[-1]) for r in found] == [
        (2, "Flat 1\r\n2 High Street"),
        (4, "3 Low Road"),
        (5, "a\r\nb\rc"),
        (8, "last"),
    ]


def test_blank_lines_are_skipped_and_not_counted() -> None:
    data = text("", HEADER, "", ROW, "   ", "\t", ROW, "", "")
    csv_file = parse(data, max_rows=2)
    assert [r.line for chunk in csv_file.chunks(10) for r in chunk] == [4, 7]


def test_a_row_of_another_width_is_kept_as_parsed() -> None:
    data = text(HEADER, ROW + ",extra", "Ann,Smith", ROW)
    assert records(data) == [
        Record(2, [*ROW.split(","), "extra"], False),
        Record(3, ["Ann", "Smith"], False),
        Record(4, ROW.split(","), True),
    ]


def test_cells_are_not_trimmed_and_null_words_stay_values() -> None:
    data = text(HEADER, " Ann , NULL,N/A,None,NA")
    assert records(data)[0].values == [" Ann ", " NULL", "N/A", "None", "NA"]


def test_nul_bytes_and_a_200_kb_field_parse() -> None:
    long = "x" * 200_000
    data = text(HEADER + ",Notes", "An\x00n,Smith,QQ123456C,PO-1,01/03/2024," + f'"{long}"')
    assert records(data)[0].values[0] == "An\x00n"
    assert records(data)[0].values[-1] == long


# Chunks


def test_it_yields_records_in_chunks_and_can_be_read_again() -> None:
    data = text(HEADER, *[ROW.replace("PO-1", f"PO-{n}") for n in range(5)])
    csv_file = parse(data)
    sizes = [[r.values[3] for r in chunk] for chunk in csv_file.chunks(2)]
    assert sizes == [["PO-0", "PO-1"], ["PO-2", "PO-3"], ["PO-4"]]
    assert [len(chunk) for chunk in csv_file.chunks(2)] == [2, 2, 1]


def test_it_rejects_too_many_rows_as_soon_as_the_count_passes() -> None:
    data = text(HEADER, ROW, ROW, ROW, ROW)
    seen: list[list[Record]] = []
    with pytest.raises(FileRejected) as caught:
        for chunk in parse(data, max_rows=2).chunks(2):
            seen.append(chunk)
    assert [len(chunk) for chunk in seen] == [2]
    assert (caught.value.code, caught.value.message, caught.value.line) == (
        "file.too_many_rows",
        "The file has more than 2 rows (line 4 is one too many). "
        "Split it into files of at most 2 rows and upload again.",
        4,
    )


def test_it_reads_the_entry_in_bounded_blocks() -> None:
    class Blocks(io.BytesIO):
        """A stream that fails any read of the whole rest of the file."""

        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and 0 <= size <= 1 << 20
            return super().read(size)

        def read1(self, size: int | None = -1) -> bytes:
            assert size is not None and 0 <= size <= 1 << 20
            return super().read1(size)

    data = text(HEADER, *[ROW] * 3000).encode()
    csv_file = open_csv(lambda: Blocks(data), max_rows=5000)
    assert sum(len(chunk) for chunk in csv_file.chunks(1000)) == 3000


def test_it_reads_an_entry_of_a_bundle_and_lets_archive_refusals_through() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("March/referrals.csv", text(HEADER, ROW))
    limits = ArchiveLimits(1 << 20, 1 << 20, 10, 100)
    with Bundle.open(buffer, limits=limits) as bundle:
        csv_file = open_csv(lambda: bundle.open_csv("March/referrals.csv"), max_rows=10)
        assert [r.values for chunk in csv_file.chunks(10) for r in chunk] == [ROW.split(",")]

    def refused() -> io.BytesIO:
        raise ArchiveRefused("archive.ratio", "Too compressed.")

    with pytest.raises(ArchiveRefused):
        open_csv(refused, max_rows=10)


# The header


def test_it_maps_headers_and_keeps_unknown_columns_with_a_warning() -> None:
    header = "Favourite Colour,first_name,SURNAME,NINO,Shoe Size,po-no,Date of Referral"
    csv_file = parse(text(header, "blue,Ann,Smith,QQ123456C,9,PO-1,01/03/2024"))
    assert csv_file.headers == header.split(",")
    assert csv_file.fields == [
        None,
        "first_name",
        "last_name",
        "nino",
        None,
        "po_number",
        "referral_date",
    ]
    assert csv_file.unknown_columns == ["Favourite Colour", "Shoe Size"]
    assert csv_file.warnings == [
        (
            "file.unknown_columns",
            "Columns not in the PRaP format were kept as additional details: "
            "Favourite Colour, Shoe Size.",
        )
    ]


def test_a_blank_header_cell_is_a_column_without_a_name() -> None:
    csv_file = parse(text(HEADER + ",,", ROW + ",,"))
    assert (csv_file.fields[-2:], csv_file.unknown_columns, csv_file.warnings) == (
        [None, None],
        [],
        [],
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("first_name", "The columns 'First Name' and 'first_name' are the same column; keep one."),
        ("Surname", "The columns 'Last Name' and 'Surname' are the same column; keep one."),
        (
            "NI No",
            "The columns 'National Insurance Number' and 'NI No' are the same column; keep one.",
        ),
        ("First Name", "The column 'First Name' appears twice; keep one."),
    ],
)
def test_it_rejects_headers_that_are_the_same_column(extra: str, message: str) -> None:
    assert_rejected(text(HEADER + "," + extra, ROW + ",x"), "file.duplicate_header", message, 1)


def test_it_rejects_unknown_headers_that_fold_to_the_same_name() -> None:
    assert_rejected(
        text(HEADER + ",Shoe Size,shoe_size", ROW + ",9,9"),
        "file.duplicate_header",
        "The columns 'Shoe Size' and 'shoe_size' are the same column; keep one.",
        1,
    )


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("First Name,Last Name,NINO,Referral Date", "PO Number"),
        ("First Name,Last Name,Referral Date", "National Insurance Number or PO Number"),
        (
            "Title,Notes",
            "First Name, Last Name, National Insurance Number, PO Number or Referral Date",
        ),
    ],
)
def test_it_rejects_a_file_missing_required_columns(header: str, missing: str) -> None:
    assert_rejected(
        text(header, "x"), "file.missing_columns", f"The file has no {missing} column.", 1
    )


# Files with nothing to import


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="no bytes"),
        pytest.param(b" \r\n\t\r\n", id="white space"),
        pytest.param(b"\xef\xbb\xbf\r\n", id="a utf-8 bom"),
        pytest.param(b"\xff\xfe", id="a utf-16 bom"),
        pytest.param(b'""\r\n', id="one empty quoted cell"),
    ],
)
def test_it_rejects_an_empty_file(data: bytes) -> None:
    assert_rejected(
        data,
        "file.empty",
        "The file is empty. Export it from PRaP again, or leave it out of the zip.",
    )


@pytest.mark.parametrize("data", [text(HEADER), HEADER, text(HEADER, "", "  ")])
def test_it_rejects_a_file_with_a_header_and_no_rows(data: str) -> None:
    assert_rejected(
        data,
        "file.no_rows",
        "The file has a header row but no data rows. Export it again with the referrals in "
        "it, or leave it out of the zip.",
    )


# Quoting


def test_it_names_the_line_of_a_quote_never_closed() -> None:
    data = text(HEADER, ROW, 'Bob,"Jones,QQ123456D,PO-2,01/03/2024', ROW, ROW)
    assert_rejected(data, "file.bad_quoting", "The quote opened on line 3 is never closed.", 3)


def test_it_names_the_line_where_the_quote_opens_not_where_its_record_starts() -> None:
    data = text(HEADER, 'Bob,"Jo', 'nes",QQ123456D,"PO-2,01/03/2024', ROW)
    assert_rejected(data, "file.bad_quoting", "The quote opened on line 3 is never closed.", 3)


def test_it_rejects_text_after_a_closing_quote() -> None:
    data = text(HEADER, ROW, 'Bob,"Jones"Smith,QQ123456D,PO-2,01/03/2024')
    assert_rejected(
        data,
        "file.bad_quoting",
        "Line 3 has text straight after a closing quote. Put the whole value in quotes and "
        'double any quote inside it ("").',
        3,
    )


def test_a_quote_inside_an_unquoted_value_is_text() -> None:
    data = text(HEADER + ",Notes", ROW + ",5'10\" tall")
    assert records(data)[0].values[-1] == "5'10\" tall"


def test_it_rejects_a_line_too_long_to_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvfile, "MAX_LINE_CHARS", 1000)
    data = text(HEADER, ROW, "x" * 2000)
    assert_rejected(
        data,
        "file.bad_quoting",
        "Line 3 is longer than 1,000 characters, so the file can't be split into rows. "
        "Check the file is a PRaP CSV export.",
        3,
    )


# Anything at all


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_are_rejected(data: bytes) -> None:
    _parse_or_reject(data)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=',;|\t"\r\n a\x00é\ufeff', max_size=200),
    st.sampled_from(["utf-8", "utf-16", "cp1252"]),
)
def test_any_csv_like_text_parses_or_is_rejected(body: str, codec: str) -> None:
    data = (HEADER + "\r\n" + body).encode(codec, errors="replace")
    _parse_or_reject(data)


def _parse_or_reject(data: bytes) -> None:
    try:
        csv_file = parse(data, max_rows=5)
        for chunk in csv_file.chunks(2):
            for record in chunk:
                assert record.line >= 2
                assert record.shape_ok == (len(record.values) == len(csv_file.headers))
    except FileRejected as rejected:
        assert rejected.code.startswith("file.")
        assert rejected.message
