"""The uploaded zip: what is read, what is skipped and every way it is refused."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import struct
import tracemalloc
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.pipeline.archive import (
    ArchiveLimits,
    ArchiveRefused,
    Bundle,
    SkippedEntry,
    _GuardedStream,
)

LIMITS = ArchiveLimits(
    max_upload_bytes=5 * 1024 * 1024,
    max_uncompressed_bytes=50 * 1024 * 1024,
    max_entries=20,
    max_ratio=100,
)
CSV = (
    b"First Name,Last Name,National Insurance Number,PO Number,Referral Date\r\n"
    b"Ann,Smith,QQ123456C,PO-1,01/03/2024\r\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(30)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
REMAKE = "Make the zip again with the built-in 'Compress' of Windows or macOS and upload it."
GIGABYTE = 1 << 30

# Offsets of fields in a central directory record (APPNOTE 4.3.12).
_CD_FLAGS, _CD_SIZE, _CD_HEADER_OFFSET = 8, 24, 42


def zip_of(
    entries: dict[str, bytes] | list[tuple[str | zipfile.ZipInfo, bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A zip of these entries, written by zipfile."""
    items = entries.items() if isinstance(entries, dict) else entries
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as bundle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which we want
        for name, content in items:
            bundle.writestr(name, content)
    return buffer.getvalue()


def entry(
    name: str, *, compress_type: int = zipfile.ZIP_DEFLATED, mode: int = 0
) -> zipfile.ZipInfo:
    """A ZipInfo keeping its name exactly as given, as a hostile tool would write it."""
    info = zipfile.ZipInfo(name)
    info.compress_type = compress_type
    if mode:
        info.external_attr = mode << 16
    return info


def patch_central(data: bytes, name: str, offset: int, value: int, fmt: str = "<L") -> bytes:
    """Change one field of one entry's central directory record, leaving the rest."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        position = bundle.start_dir
    while out[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<3H", out, position + 28)
        record_name = bytes(out[position + 46 : position + 46 + name_length]).decode()
        if record_name == name:
            struct.pack_into(fmt, out, position + offset, value)
            return bytes(out)
        position += 46 + name_length + extra_length + comment_length
    raise AssertionError(f"no central directory record for {name}")


def refusal(data: bytes, limits: ArchiveLimits = LIMITS) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as caught:
        Bundle.open(io.BytesIO(data), limits=limits)
    return caught.value


def assert_refused(data: bytes, code: str, message: str, limits: ArchiveLimits = LIMITS) -> None:
    refused = refusal(data, limits)
    assert (refused.code, refused.message) == (code, message)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def gigabyte_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip whose one entry inflates 1 GB of zeros from about 1 MB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        with bundle.open(entry("zeros.csv"), "w", force_zip64=True) as stream:
            block = bytes(1 << 20)
            for _ in range(GIGABYTE // len(block)):
                stream.write(block)
    return path


# What is read


def test_it_lists_csv_entries_in_zip_order_keeping_their_folders() -> None:
    data = zip_of({"b.csv": CSV, "2024/March/a.CSV": CSV, "z/deep/er/x.csv": CSV})
    with Bundle.open(io.BytesIO(data), limits=LIMITS) as bundle:
        assert bundle.csv_paths == ["b.csv", "2024/March/a.CSV", "z/deep/er/x.csv"]
        assert bundle.skipped == []
        with bundle.open_csv("2024/March/a.CSV") as stream:
            assert stream.read() == CSV


def test_it_skips_and_lists_junk_at_any_depth_in_any_case() -> None:
    data = zip_of(
        [
            ("reports/", b""),
            ("reports/a.csv", CSV),
            ("__MACOSX/reports/._a.csv", b"\x00\x05\x16\x07"),
            ("reports/.DS_Store", b"\x00\x00\x00\x01Bud1"),
            ("THUMBS.DB", b"\xd0\xcf\x11\xe0"),
            ("reports/old/Desktop.ini", b"[.ShellClassInfo]"),
            ("._b.csv", b"\x00\x05\x16\x07"),
        ]
    )
    with Bundle.open(io.BytesIO(data), limits=LIMITS) as bundle:
        assert bundle.csv_paths == ["reports/a.csv"]
        assert bundle.skipped == [
            SkippedEntry("reports/", "folder"),
            SkippedEntry("__MACOSX/reports/._a.csv", "macOS resource fork"),
            SkippedEntry("reports/.DS_Store", "macOS folder settings"),
            SkippedEntry("THUMBS.DB", "Windows thumbnail cache"),
            SkippedEntry("reports/old/Desktop.ini", "Windows folder settings"),
            SkippedEntry("._b.csv", "macOS resource fork"),
        ]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty file"),
        pytest.param(b"\xef\xbb\xbf" + CSV, id="utf-8 with BOM"),
        pytest.param(
            "\ufeffFirst Name\tPO Number\r\nSiân\tPO-1\r\n".encode("utf-16-le"), id="utf-16 le"
        ),
        pytest.param(
            "\ufeffFirst Name\tPO Number\r\nSiân\tPO-1\r\n".encode("utf-16-be"), id="utf-16 be"
        ),
        pytest.param("First Name,Price\r\nAndré,£5\r\n".encode("cp1252"), id="windows-1252"),
        pytest.param(CSV + b"Bo\x00b,Jones,QQ123456D,PO-2,01/03/2024\r\n", id="a stray NUL"),
        pytest.param(b"First Name;PO Number\nAnn;PO-1\n", id="semicolons"),
    ],
)
def test_it_accepts_any_text_named_csv(content: bytes) -> None:
    with Bundle.open(io.BytesIO(zip_of({"a.csv": content})), limits=LIMITS) as bundle:
        assert bundle.csv_paths == ["a.csv"]
        with bundle.open_csv("a.csv") as stream:
            assert stream.read() == content


def test_it_accepts_a_small_repetitive_csv_whatever_its_ratio() -> None:
    content = CSV + b"Ann,Smith,QQ123456C,PO-1,01/03/2024\r\n" * 10_000  # about 370 KB
    data = zip_of({"a.csv": content})
    assert len(content) > 100 * len(data)
    with Bundle.open(io.BytesIO(data), limits=LIMITS) as bundle:
        assert bundle.csv_paths == ["a.csv"]


def test_it_reads_a_stored_entry_from_a_path_and_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(zip_of({"a.csv": CSV}, compression=zipfile.ZIP_STORED))
    before = open_fds()
    bundle = Bundle.open(path, limits=LIMITS)
    with bundle.open_csv("a.csv") as stream:
        assert stream.read() == CSV
    bundle.close()
    bundle.close()
    assert open_fds() == before


def test_it_closes_the_file_when_it_refuses_a_path(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(zip_of({"a.png": PNG}))
    before = open_fds()
    with pytest.raises(ArchiveRefused):
        Bundle.open(str(path), limits=LIMITS)
    assert open_fds() == before


class Pipe(io.RawIOBase):
    """An upload stream that cannot seek, like a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = self._data.readinto(buffer)
        self.delivered += size
        return size


def test_it_reads_an_upload_stream_that_cannot_seek() -> None:
    with Bundle.open(Pipe(zip_of({"a.csv": CSV})), limits=LIMITS) as bundle:  # type: ignore[arg-type]
        with bundle.open_csv("a.csv") as stream:
            assert stream.read() == CSV


def test_it_stops_copying_an_upload_stream_once_over_the_limit() -> None:
    pipe = Pipe(bytes(50 << 20))
    with pytest.raises(ArchiveRefused) as caught:
        Bundle.open(pipe, limits=LIMITS)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.message) == (
        "archive.too_large",
        "The upload is over the 5.0 MB limit. Split the CSV files across several zips.",
    )
    assert pipe.delivered <= 6 << 20


def test_it_only_opens_its_csv_entries() -> None:
    data = zip_of({"a.csv": CSV, ".DS_Store": b"Bud1"})
    with Bundle.open(io.BytesIO(data), limits=LIMITS) as bundle, pytest.raises(KeyError):
        bundle.open_csv(".DS_Store")


# Refusals of the upload as a whole


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"First Name,Last Name\r\n", id="a csv"),
        pytest.param(PDF, id="a pdf renamed .zip"),
        pytest.param(zip_of({"a.csv": CSV})[:-30], id="a truncated zip"),
        pytest.param(b"", id="nothing"),
    ],
)
def test_it_refuses_what_is_not_a_zip(data: bytes) -> None:
    assert_refused(
        data,
        "archive.not_zip",
        "The upload is not a zip file, or the zip is damaged. "
        "Put the CSV files in a zip and upload that.",
    )


def test_it_refuses_an_upload_over_the_size_limit() -> None:
    data = zip_of({"a.csv": CSV})
    limits = ArchiveLimits(len(data) - 1, 1 << 20, 10, 100)
    assert_refused(
        data,
        "archive.too_large",
        f"The upload is {len(data)} bytes, over the {len(data) - 1} bytes limit. "
        "Split the CSV files across several zips.",
        limits,
    )


def test_it_refuses_an_upload_over_the_size_limit_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(bytes(3 * 1024 * 1024))
    with pytest.raises(ArchiveRefused) as caught:
        Bundle.open(path, limits=ArchiveLimits(2 * 1024 * 1024, 1 << 30, 10, 100))
    assert caught.value.message == (
        "The upload is 3.0 MB, over the 2.0 MB limit. Split the CSV files across several zips."
    )


def test_it_refuses_too_many_entries() -> None:
    data = zip_of({f"{n}.csv": CSV for n in range(21)})
    assert_refused(
        data,
        "archive.too_many_entries",
        "The zip holds 21 entries; at most 20 are allowed. Split the CSV files across several zips.",
    )


def test_it_refuses_a_zip_without_a_csv() -> None:
    assert_refused(
        zip_of({"__MACOSX/._a.csv": b"\x00\x05\x16\x07", "docs/": b""}),
        "archive.empty",
        "The zip has no CSV files in it (only folders and system files, which are ignored). "
        "Put the PRaP CSV files in the zip and upload again.",
    )
    assert_refused(
        zip_of({}),
        "archive.empty",
        "The zip has no CSV files in it. Put the PRaP CSV files in the zip and upload again.",
    )


# Refusals of one entry's header


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.csv", "it contains '..'"),
        ("reports/../../evil.csv", "it contains '..'"),
        ("/etc/evil.csv", "it starts with '/'"),
        ("C:\\evil.csv", "it starts with a drive letter"),
        ("c:evil.csv", "it starts with a drive letter"),
        ("a\\..\\b.csv", "it contains '..'"),
        ("reports\\a.csv", "it contains a backslash"),
    ],
)
def test_it_refuses_an_unsafe_path(name: str, why: str) -> None:
    refused = refusal(zip_of([("ok.csv", CSV), (entry(name), CSV)]))
    assert (refused.code, refused.message, refused.path) == (
        "archive.unsafe_path",
        f"The zip entry '{name}' has an unsafe path: {why}. "
        "Zip the CSV files from an ordinary folder and upload again.",
        name,
    )


def test_it_refuses_a_symlink() -> None:
    assert_refused(
        zip_of([(entry("passwd.csv", mode=0o120777), b"/etc/passwd")]),
        "archive.symlink",
        "The zip entry 'passwd.csv' is a symbolic link, not a file. "
        "Put the real file in the zip instead and upload again.",
    )


def test_it_refuses_an_encrypted_entry() -> None:
    data = zip_of({"a.csv": CSV, "b.csv": CSV})
    data = patch_central(data, "b.csv", _CD_FLAGS, 0x1, "<H")
    assert_refused(
        data,
        "archive.encrypted",
        "The zip entry 'b.csv' is protected by a password. "
        "Make the zip again without a password and upload it.",
    )


@pytest.mark.parametrize(
    ("compress_type", "method"),
    [(zipfile.ZIP_LZMA, "LZMA"), (zipfile.ZIP_BZIP2, "bzip2")],
)
def test_it_refuses_an_unsupported_compression_method(compress_type: int, method: str) -> None:
    assert_refused(
        zip_of([(entry("a.csv", compress_type=compress_type), CSV)]),
        "archive.not_zip",
        f"The zip entry 'a.csv' is compressed with {method}, which is not supported. {REMAKE}",
    )


def test_it_checks_the_headers_of_junk_too() -> None:
    assert_refused(
        zip_of([("a.csv", CSV), (entry("__MACOSX/../../.DS_Store"), b"")]),
        "archive.unsafe_path",
        "The zip entry '__MACOSX/../../.DS_Store' has an unsafe path: it contains '..'. "
        "Zip the CSV files from an ordinary folder and upload again.",
    )


# Refusals by name or content


@pytest.mark.parametrize("name", ["more.zip", "backup/2024.tar.gz", "x.7z", "old.RAR", "lib.jar"])
def test_it_refuses_an_archive_by_its_name(name: str) -> None:
    assert_refused(
        zip_of({"a.csv": CSV, name: b"whatever"}),
        "archive.nested_archive",
        f"The zip contains '{name}', which is itself an archive. "
        "Unzip it and put its CSV files straight into the zip you upload.",
    )


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (zip_of({"inner.csv": CSV}), "application/zip"),
        (gzip.compress(CSV), "application/gzip"),
        (bz2.compress(CSV), "application/x-bzip2"),
    ],
)
def test_it_refuses_an_archive_named_csv(content: bytes, mime: str) -> None:
    assert_refused(
        zip_of({"a.csv": content}),
        "archive.nested_archive",
        f"'a.csv' is named like a CSV file but is a compressed archive ({mime}). "
        "Unzip it and put its CSV files straight into the zip you upload.",
    )


@pytest.mark.parametrize("name", ["photos/me.png", "readme.txt", "referrals.xlsx", "referrals"])
def test_it_refuses_an_entry_not_named_csv(name: str) -> None:
    refused = refusal(zip_of({"a.csv": CSV, name: CSV}))
    assert (refused.code, refused.message, refused.path) == (
        "archive.not_csv",
        f"The zip contains '{name}', which is not a CSV file. Remove it and upload again.",
        name,
    )


def xlsx_bytes() -> bytes:
    """A minimal Excel workbook: a zip of XML parts."""
    return zip_of(
        {
            "[Content_Types].xml": "<Types/>" * 50,
            "_rels/.rels": "<Relationships/>",
            "xl/workbook.xml": "<workbook/>" * 100,
        }
    )


@pytest.mark.parametrize(
    ("content", "what"),
    [
        pytest.param(PNG, "an image", id="png"),
        pytest.param(PDF, "a PDF document", id="pdf"),
        pytest.param(xlsx_bytes(), "an Excel workbook", id="xlsx"),
        pytest.param(bytes(i * 97 % 256 for i in range(2048)), "binary data", id="binary"),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2040),
            "a Microsoft Office document",
            id="xls",
        ),
    ],
)
def test_it_refuses_a_csv_whose_content_is_not_text(content: bytes, what: str) -> None:
    assert_refused(
        zip_of({"ok.csv": CSV, "data/referrals.csv": content}),
        "archive.not_csv",
        f"'data/referrals.csv' is named like a CSV file but holds {what}, not CSV text. "
        "Save it as CSV (UTF-8) and upload again.",
    )


def test_it_refuses_names_that_differ_only_in_case() -> None:
    assert_refused(
        zip_of({"March/a.csv": CSV, "b.csv": CSV, "march/A.CSV": CSV}),
        "archive.duplicate_name",
        "The zip contains both 'March/a.csv' and 'march/A.CSV', whose names differ only in "
        "case. Rename or remove one and upload again.",
    )
    assert_refused(
        zip_of([("a.csv", CSV), ("a.csv", CSV)]),
        "archive.duplicate_name",
        "The zip contains 'a.csv' twice. Remove one copy and upload again.",
    )


# Refusals by size and ratio


def test_it_refuses_an_entry_declared_over_the_uncompressed_limit(gigabyte_zip: Path) -> None:
    with pytest.raises(ArchiveRefused) as caught:
        Bundle.open(gigabyte_zip, limits=ArchiveLimits(10 << 20, 100 << 20, 10, 2000))
    assert (caught.value.code, caught.value.message) == (
        "archive.uncompressed_too_large",
        "'zeros.csv' unzips to 1.0 GB, over the 100.0 MB limit for one upload. "
        "Split it into smaller files across several uploads.",
    )


def test_it_refuses_files_adding_up_over_the_uncompressed_limit() -> None:
    content = CSV + b"x" * 600_000
    limits = ArchiveLimits(10 << 20, 1 << 20, 10, 10_000)
    assert_refused(
        zip_of({"a.csv": content, "b.csv": content}),
        "archive.uncompressed_too_large",
        "The files in the zip add up to 1.1 MB unzipped, over the 1.0 MB limit. "
        "Split the CSV files across several uploads.",
        limits,
    )


def compressed_kb(path: Path) -> str:
    with zipfile.ZipFile(path) as bundle:
        return f"{bundle.getinfo('zeros.csv').compress_size / 1024:.1f} KB"


def test_it_refuses_an_entry_declared_beyond_the_ratio(gigabyte_zip: Path) -> None:
    with pytest.raises(ArchiveRefused) as caught:
        Bundle.open(gigabyte_zip, limits=ArchiveLimits(10 << 20, 2 << 30, 10, 100))
    assert (caught.value.code, caught.value.message) == (
        "archive.ratio",
        f"'zeros.csv' claims to unzip from {compressed_kb(gigabyte_zip)} to 1.0 GB, more than 100 times its "
        f"size, which is how zip bombs work. {REMAKE}",
    )


def test_it_refuses_a_zip_beyond_the_ratio_over_all_entries() -> None:
    # Each entry stays under the 1 MB grace; together they pass it.
    content = CSV + b" " * 600_000
    data = zip_of({"a.csv": content, "b.csv": content})
    refused = refusal(data)
    assert refused.code == "archive.ratio"
    assert refused.message.startswith("The zip claims to unzip from ")
    assert refused.message.endswith(
        f" to 1.1 MB, more than 100 times its size, which is how zip bombs work. {REMAKE}"
    )


def test_it_refuses_entries_that_share_compressed_data() -> None:
    data = zip_of({"a.csv": CSV, "b.csv": CSV})
    data = patch_central(data, "b.csv", _CD_HEADER_OFFSET, 0)
    assert_refused(
        data,
        "archive.ratio",
        f"The zip entries 'a.csv' and 'b.csv' share compressed data, a trick used by zip bombs. "
        f"{REMAKE}",
    )


# Streams that count what they inflate


def _read_all(stream: io.RawIOBase | io.BufferedIOBase, block: int = 64 * 1024) -> Iterator[int]:
    while data := stream.read(block):
        yield len(data)


def test_a_stream_refuses_once_past_the_uncompressed_limit_with_flat_memory(
    gigabyte_zip: Path,
) -> None:
    # zipfile never inflates past the declared size, so the guard is exercised directly:
    # it is what stands if the declared sizes and the inflater ever disagree.
    limits = ArchiveLimits(10 << 20, 8 << 20, 10, 100_000)
    received = 0
    with zipfile.ZipFile(gigabyte_zip) as bundle:
        info = bundle.getinfo("zeros.csv")
        with io.BufferedReader(
            _GuardedStream(bundle.open(info), info=info, limits=limits)
        ) as stream:
            tracemalloc.start()
            try:
                with pytest.raises(ArchiveRefused) as caught:
                    for size in _read_all(stream):
                        received += size
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert (caught.value.code, caught.value.message) == (
        "archive.uncompressed_too_large",
        "'zeros.csv' unzips to more than 8.0 MB, the limit for one upload. "
        "Split the CSV files across several uploads.",
    )
    assert received <= 8 << 20
    assert peak < 2 << 20


def test_a_stream_refuses_once_past_the_ratio(gigabyte_zip: Path) -> None:
    limits = ArchiveLimits(10 << 20, 2 << 30, 10, 10)
    with zipfile.ZipFile(gigabyte_zip) as bundle:
        info = bundle.getinfo("zeros.csv")
        with io.BufferedReader(
            _GuardedStream(bundle.open(info), info=info, limits=limits)
        ) as stream:
            with pytest.raises(ArchiveRefused) as caught:
                for _ in _read_all(stream):
                    pass
    assert (caught.value.code, caught.value.message) == (
        "archive.ratio",
        f"'zeros.csv' unzips to over 10 times its compressed size ({compressed_kb(gigabyte_zip)}), which is how "
        f"zip bombs work. {REMAKE}",
    )


def test_a_stream_stops_at_the_declared_size_when_the_header_lies() -> None:
    content = CSV + b"Ann,Smith,QQ123456C,PO-1,01/03/2024\r\n" * 20_000
    data = patch_central(zip_of({"a.csv": content}), "a.csv", _CD_SIZE, 65536)
    received = 0
    with Bundle.open(io.BytesIO(data), limits=LIMITS) as bundle:
        with bundle.open_csv("a.csv") as stream, pytest.raises(ArchiveRefused) as caught:
            for size in _read_all(stream, 1024):
                received += size
    assert (caught.value.code, caught.value.message) == (
        "archive.not_zip",
        f"The zip entry 'a.csv' is damaged and can't be read. {REMAKE}",
    )
    assert received <= 65536


# Anything at all


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=400),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=6),
)
def test_a_damaged_zip_is_read_or_refused_never_crashes(
    cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(zip_of({"a.csv": CSV * 3, "b/c.csv": CSV, ".DS_Store": b"Bud1"}))
    for position, value in flips:
        data[position % len(data)] = value
    data = data[: len(data) - cut] if cut < len(data) else data
    try:
        with Bundle.open(io.BytesIO(bytes(data)), limits=LIMITS) as bundle:
            for path in bundle.csv_paths:
                with bundle.open_csv(path) as stream:
                    stream.read()
    except ArchiveRefused as refused:
        assert refused.code.startswith("archive.")
        assert refused.message
