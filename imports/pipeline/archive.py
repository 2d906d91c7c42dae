"""Safe reading of an uploaded referral bundle: the zip itself (spec §1, §5 'Archive').

Plain Python, no Django. ``Bundle.open`` inspects the whole zip before any row is
read and refuses the upload (``ArchiveRefused``) on the first problem, in this order:

1. the upload's size (``archive.too_large``), then whether it is a zip at all
   (``archive.not_zip``) and how many entries it has (``archive.too_many_entries``);
2. each entry's header, in zip order: unsafe path, symlink, encryption,
   compression method;
3. each entry's name, in zip order: junk is skipped, archives are refused as
   ``archive.nested_archive``, anything not named ``.csv`` as ``archive.not_csv``;
4. names that differ only in case (``archive.duplicate_name``);
5. the declared sizes (``archive.uncompressed_too_large``, ``archive.ratio``) and
   entries whose compressed data overlaps (``archive.ratio``);
6. the first 2 KB of every CSV, sniffed with libmagic (``archive.nested_archive``,
   ``archive.not_csv``), and finally whether any CSV is left (``archive.empty``).

Decisions worth knowing:

- Only stored and deflated entries are read. Any other method (bzip2, LZMA,
  Deflate64, ...) is refused as ``archive.not_zip`` with a message naming the
  method: the zip is not one we can read, and remaking it with the built-in
  "Compress" of Windows or macOS fixes it. WinZip AES (method 99) is encryption,
  so it is ``archive.encrypted``.
- Overlapping entries, the trick behind "quoted overlap" zip bombs, are
  ``archive.ratio``: they exist only to inflate far beyond the upload's size.
  Compressed data that runs into the central directory is ``archive.not_zip``.
- The ratio limit applies per entry and to the whole zip, but only once the
  uncompressed size passes ``ratio_grace_bytes`` (1 MB by default): a small CSV
  of repeated rows compresses beyond any sane ratio and is harmless.
- Junk (``__MACOSX/...``, ``._*`` AppleDouble files, ``.DS_Store``,
  ``Thumbs.db``, ``desktop.ini`` at any depth, any case, and folder entries) is
  skipped and listed, but still has its path, symlink, encryption and method
  checked: a desktop tool never produces such junk, an attacker might.
- A CSV whose content libmagic calls ``application/octet-stream`` is accepted
  when control bytes are rare in its first 2 KB: a stray NUL in a row is a row
  error (``field.control_chars``), not a reason to refuse the whole upload.
- ``open_csv`` streams count the bytes actually inflated and refuse as soon as
  they pass ``max_uncompressed_bytes`` or the ratio; each stream counts on its
  own, since the CSV reader opens an entry more than once.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

import magic

SNIFF_BYTES = 2048

_ZIP_AES = 99  # WinZip AES encryption poses as a compression method
_COMPRESSION_NAMES = {
    1: "Shrink",
    6: "Implode",
    9: "Deflate64",
    12: "bzip2",
    14: "LZMA",
    93: "Zstandard",
    95: "XZ",
    96: "JPEG",
    97: "WavPack",
    98: "PPMd",
}
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"

_JUNK_NAMES = {
    ".ds_store": "macOS folder settings",
    "thumbs.db": "Windows thumbnail cache",
    "desktop.ini": "Windows folder settings",
}
_ARCHIVE_SUFFIXES = (
    ".zip", ".zipx", ".7z", ".gz", ".tgz", ".tar", ".rar", ".jar", ".war", ".ear",
    ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".lz", ".lzma", ".zst", ".z", ".cab",
    ".iso", ".dmg", ".arj", ".lzh", ".cpio", ".apk",
)  # fmt: skip
_ARCHIVE_MIME_TYPES = frozenset({
    "application/zip", "application/x-zip-compressed", "application/gzip", "application/x-gzip",
    "application/x-bzip2", "application/x-xz", "application/x-lzma", "application/x-lzip",
    "application/zstd", "application/x-zstd", "application/x-compress",
    "application/x-7z-compressed", "application/x-rar", "application/vnd.rar",
    "application/x-rar-compressed", "application/x-tar", "application/x-cpio",
    "application/x-archive", "application/java-archive", "application/vnd.ms-cab-compressed",
    "application/x-iso9660-image", "application/x-apple-diskimage", "application/x-lzh-compressed",
    "application/x-arj", "application/x-xar",
})  # fmt: skip
# Text formats libmagic may see in a CSV's first 2 KB.
_TEXT_MIME_TYPES = frozenset(
    {
        "application/csv",
        "application/json",
        "application/x-ndjson",
        "application/x-empty",
        "inode/x-empty",
    }
)
_DOCUMENT_NAMES = {
    "application/pdf": "a PDF document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
    "application/vnd.ms-excel": "an Excel workbook",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word document",
    "application/msword": "a Word document",
    "application/x-ole-storage": "a Microsoft Office document",
    "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet",
    "application/octet-stream": "binary data",
}
# Bytes that never appear in text: C0 controls other than tab, LF, VT, FF, CR and ESC.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")

_REMAKE = "Make the zip again with the built-in 'Compress' of Windows or macOS and upload it."


@dataclass(frozen=True)
class ArchiveLimits:
    """How big and how compressed an upload may be; ``max_ratio`` is uncompressed/compressed."""

    max_upload_bytes: int
    max_uncompressed_bytes: int
    max_entries: int
    max_ratio: int
    ratio_grace_bytes: int = 1024 * 1024


class ArchiveRefused(Exception):
    """The whole upload is refused; ``code`` is from spec §5, ``message`` tells the user what to do."""

    def __init__(self, code: str, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


@dataclass(frozen=True)
class SkippedEntry:
    """A junk entry left out of the import, with the reason shown in the report."""

    path: str
    reason: str


class Bundle:
    """An inspected upload: its CSV entries, the junk it skipped, and streams of the CSVs.

    Use ``Bundle.open``; close it (or use it as a context manager) when done.
    """

    def __init__(
        self,
        *,
        zip_file: zipfile.ZipFile,
        file: BinaryIO,
        owns_file: bool,
        limits: ArchiveLimits,
        csv_entries: list[zipfile.ZipInfo],
        skipped: list[SkippedEntry],
    ) -> None:
        self._zip = zip_file
        self._file = file
        self._owns_file = owns_file
        self.limits = limits
        self._entries = {info.filename: info for info in csv_entries}
        self.csv_paths: list[str] = [info.filename for info in csv_entries]
        self.skipped: list[SkippedEntry] = skipped
        self._closed = False

    @classmethod
    def open(cls, source: str | os.PathLike[str] | BinaryIO, *, limits: ArchiveLimits) -> Bundle:
        """Open and inspect an upload: a path, or a binary stream the caller keeps and closes.

        Raises ``ArchiveRefused`` on the first problem; nothing is left open then.
        """
        file, owns_file = _open_source(source, limits)
        try:
            zip_file = _open_zip(file)
            try:
                csv_entries, skipped = _inspect(zip_file, file, limits)
            except BaseException:
                zip_file.close()
                raise
        except BaseException:
            if owns_file:
                file.close()
            raise
        return cls(
            zip_file=zip_file,
            file=file,
            owns_file=owns_file,
            limits=limits,
            csv_entries=csv_entries,
            skipped=skipped,
        )

    def open_csv(self, path: str) -> BinaryIO:
        """A fresh stream of one CSV entry's bytes, from the start.

        Reading raises ``ArchiveRefused`` as soon as the bytes inflated pass the
        limits, or when the entry turns out to be damaged.
        """
        if self._closed:
            raise ValueError("The bundle is closed.")
        info = self._entries.get(path)
        if info is None:
            raise KeyError(f"{path!r} is not a CSV entry of this bundle.")
        raw = _open_entry(self._zip, info)
        return io.BufferedReader(_GuardedStream(raw, info=info, limits=self.limits))

    def close(self) -> None:
        """Close the zip, and the upload file when the bundle opened it."""
        if self._closed:
            return
        self._closed = True
        self._zip.close()
        if self._owns_file:
            self._file.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _GuardedStream(io.RawIOBase):
    """An entry's inflated bytes, counted as they come, refused once past the limits.

    The sizes in the zip's headers are only claims, so the count here is what
    keeps a lying entry from inflating without end while memory stays flat.
    """

    def __init__(self, raw: BinaryIO, *, info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
        super().__init__()
        self._raw = raw
        self._info = info
        self._limits = limits
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        try:
            data = self._raw.read(len(view))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            raise _read_failure(self._info, error) from error
        self._count += len(data)
        self._check()
        view[: len(data)] = data
        return len(data)

    def _check(self) -> None:
        path = self._info.filename
        if self._count > self._limits.max_uncompressed_bytes:
            raise ArchiveRefused(
                "archive.uncompressed_too_large",
                f"'{path}' unzips to more than {_size(self._limits.max_uncompressed_bytes)}, "
                "the limit for one upload. Split the CSV files across several uploads.",
                path=path,
            )
        if self._count > self._limits.ratio_grace_bytes and self._count > (
            self._limits.max_ratio * max(self._info.compress_size, 1)
        ):
            raise ArchiveRefused(
                "archive.ratio",
                f"'{path}' unzips to over {self._limits.max_ratio} times its compressed size "
                f"({_size(self._info.compress_size)}), which is how zip bombs work. {_REMAKE}",
                path=path,
            )

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _open_source(
    source: str | os.PathLike[str] | BinaryIO, limits: ArchiveLimits
) -> tuple[BinaryIO, bool]:
    """The upload as a seekable binary file, and whether the bundle must close it."""
    if isinstance(source, str | os.PathLike):
        _check_upload_size(os.stat(source).st_size, limits)
        return open(source, "rb"), True
    if source.seekable():
        start = source.tell()
        size = source.seek(0, io.SEEK_END)
        source.seek(start)
        _check_upload_size(size, limits)
        return source, False
    # zipfile needs to seek; copy the stream, refusing as soon as it is too big.
    # SpooledTemporaryFile's disk file is anonymous, so nothing is left behind.
    copy = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    size = 0
    while block := source.read(1024 * 1024):
        size += len(block)
        if size > limits.max_upload_bytes:
            copy.close()
            raise ArchiveRefused(
                "archive.too_large",
                f"The upload is over the {_size(limits.max_upload_bytes)} limit. "
                "Split the CSV files across several zips.",
            )
        copy.write(block)
    copy.seek(0)
    return copy, True  # type: ignore[return-value]


def _check_upload_size(size: int, limits: ArchiveLimits) -> None:
    if size > limits.max_upload_bytes:
        raise ArchiveRefused(
            "archive.too_large",
            f"The upload is {_size(size)}, over the {_size(limits.max_upload_bytes)} limit. "
            "Split the CSV files across several zips.",
        )


def _open_zip(file: BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error, NotImplementedError):
        raise ArchiveRefused(
            "archive.not_zip",
            "The upload is not a zip file, or the zip is damaged. "
            "Put the CSV files in a zip and upload that.",
        ) from None


def _inspect(
    zip_file: zipfile.ZipFile, file: BinaryIO, limits: ArchiveLimits
) -> tuple[list[zipfile.ZipInfo], list[SkippedEntry]]:
    """Every check that needs no row: the CSV entries in zip order, and the junk skipped."""
    infos = zip_file.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveRefused(
            "archive.too_many_entries",
            f"The zip holds {len(infos):,} entries; at most {limits.max_entries:,} are allowed. "
            "Split the CSV files across several zips.",
        )
    for info in infos:
        _check_header(info)

    csv_entries: list[zipfile.ZipInfo] = []
    skipped: list[SkippedEntry] = []
    for info in infos:
        reason = _junk_reason(info)
        if reason is not None:
            skipped.append(SkippedEntry(info.filename, reason))
            continue
        _check_name(info.filename)
        csv_entries.append(info)

    _check_duplicate_names(csv_entries)
    _check_declared_sizes(infos, limits)
    _check_overlaps(zip_file, file, infos)
    for info in csv_entries:
        _check_content(info.filename, _sniff(zip_file, info))

    if not csv_entries:
        extra = " (only folders and system files, which are ignored)" if skipped else ""
        raise ArchiveRefused(
            "archive.empty",
            f"The zip has no CSV files in it{extra}. "
            "Put the PRaP CSV files in the zip and upload again.",
        )
    return csv_entries, skipped


def _check_header(info: zipfile.ZipInfo) -> None:
    """Path, symlink, encryption and compression method of one entry."""
    path = info.filename
    why = _unsafe_path_reason(path)
    if why is not None:
        raise ArchiveRefused(
            "archive.unsafe_path",
            f"The zip entry '{path}' has an unsafe path: {why}. "
            "Zip the CSV files from an ordinary folder and upload again.",
            path=path,
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveRefused(
            "archive.symlink",
            f"The zip entry '{path}' is a symbolic link, not a file. "
            "Put the real file in the zip instead and upload again.",
            path=path,
        )
    # Bit 0 is encryption; bit 6 is "strong" encryption, which always sets bit 0 too.
    if info.flag_bits & 0x41 or info.compress_type == _ZIP_AES:
        raise ArchiveRefused(
            "archive.encrypted",
            f"The zip entry '{path}' is protected by a password. "
            "Make the zip again without a password and upload it.",
            path=path,
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = _COMPRESSION_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise ArchiveRefused(
            "archive.not_zip",
            f"The zip entry '{path}' is compressed with {method}, which is not supported. "
            + _REMAKE,
            path=path,
        )


def _unsafe_path_reason(path: str) -> str | None:
    if not path:
        return "it has no name"
    if path.startswith("/"):
        return "it starts with '/'"
    if _DRIVE_LETTER.match(path):
        return "it starts with a drive letter"
    if ".." in re.split(r"[/\\]", path):
        return "it contains '..'"
    if "\\" in path:
        return "it contains a backslash"
    return None


def _junk_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a desktop tool's extra entry is skipped, or None for a real entry."""
    if info.is_dir():
        return "folder"
    *folders, name = info.filename.split("/")
    if any(folder.lower() == "__macosx" for folder in folders) or name.startswith("._"):
        return "macOS resource fork"
    return _JUNK_NAMES.get(name.lower())


def _check_name(path: str) -> None:
    lower = path.lower()
    if lower.endswith(_ARCHIVE_SUFFIXES):
        raise ArchiveRefused(
            "archive.nested_archive",
            f"The zip contains '{path}', which is itself an archive. "
            "Unzip it and put its CSV files straight into the zip you upload.",
            path=path,
        )
    if not lower.endswith(".csv"):
        raise ArchiveRefused(
            "archive.not_csv",
            f"The zip contains '{path}', which is not a CSV file. Remove it and upload again.",
            path=path,
        )


def _check_duplicate_names(infos: list[zipfile.ZipInfo]) -> None:
    # Windows and macOS folders are case-insensitive: such names would overwrite each other.
    seen: dict[str, str] = {}
    for info in infos:
        key = info.filename.casefold()
        other = seen.get(key)
        if other is None:
            seen[key] = info.filename
        elif other == info.filename:
            raise ArchiveRefused(
                "archive.duplicate_name",
                f"The zip contains '{other}' twice. Remove one copy and upload again.",
                path=info.filename,
            )
        else:
            raise ArchiveRefused(
                "archive.duplicate_name",
                f"The zip contains both '{other}' and '{info.filename}', whose names differ "
                "only in case. Rename or remove one and upload again.",
                path=info.filename,
            )


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    for info in infos:
        if info.file_size > limits.max_uncompressed_bytes:
            raise ArchiveRefused(
                "archive.uncompressed_too_large",
                f"'{info.filename}' unzips to {_size(info.file_size)}, over the "
                f"{_size(limits.max_uncompressed_bytes)} limit for one upload. "
                "Split it into smaller files across several uploads.",
                path=info.filename,
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise ArchiveRefused(
            "archive.uncompressed_too_large",
            f"The files in the zip add up to {_size(total)} unzipped, over the "
            f"{_size(limits.max_uncompressed_bytes)} limit. "
            "Split the CSV files across several uploads.",
        )
    for info in infos:
        if _suspicious(info.file_size, info.compress_size, limits):
            raise ArchiveRefused(
                "archive.ratio",
                f"'{info.filename}' claims to unzip from {_size(info.compress_size)} to "
                f"{_size(info.file_size)}, more than {limits.max_ratio} times its size, "
                f"which is how zip bombs work. {_REMAKE}",
                path=info.filename,
            )
    compressed = sum(info.compress_size for info in infos)
    if _suspicious(total, compressed, limits):
        raise ArchiveRefused(
            "archive.ratio",
            f"The zip claims to unzip from {_size(compressed)} to {_size(total)}, more than "
            f"{limits.max_ratio} times its size, which is how zip bombs work. {_REMAKE}",
        )


def _suspicious(uncompressed: int, compressed: int, limits: ArchiveLimits) -> bool:
    return uncompressed > limits.ratio_grace_bytes and uncompressed > limits.max_ratio * max(
        compressed, 1
    )


def _check_overlaps(
    zip_file: zipfile.ZipFile, file: BinaryIO, infos: list[zipfile.ZipInfo]
) -> None:
    """Refuse entries whose compressed data overlaps another entry or the directory.

    Read from the local headers, since the data starts after the name and extra
    field stored there, which may differ from the central directory's.
    """
    spans: list[tuple[int, int, zipfile.ZipInfo]] = []
    for info in infos:
        if info.header_offset < 0:
            raise _damaged(info)
        file.seek(info.header_offset)
        header = file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or not header.startswith(_LOCAL_HEADER_SIGNATURE):
            raise _damaged(info)
        fields = _LOCAL_HEADER.unpack(header)
        name_length, extra_length = fields[-2], fields[-1]
        start = info.header_offset
        end = start + _LOCAL_HEADER.size + name_length + extra_length + info.compress_size
        spans.append((start, end, info))
    spans.sort(key=lambda span: span[0])
    for index, (_, end, info) in enumerate(spans):
        if index + 1 == len(spans):
            if end > zip_file.start_dir:
                raise _damaged(info)
            break
        following_start, _, other = spans[index + 1]
        if end > following_start:
            raise ArchiveRefused(
                "archive.ratio",
                f"The zip entries '{info.filename}' and '{other.filename}' share compressed "
                f"data, a trick used by zip bombs. {_REMAKE}",
                path=info.filename,
            )


def _open_entry(zip_file: zipfile.ZipFile, info: zipfile.ZipInfo) -> BinaryIO:
    try:
        return zip_file.open(info)  # type: ignore[return-value]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise _read_failure(info, error) from error


def _sniff(zip_file: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with _open_entry(zip_file, info) as raw:
        try:
            return raw.read(SNIFF_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            raise _read_failure(info, error) from error


def _check_content(path: str, head: bytes) -> None:
    """Refuse a CSV-named entry whose first bytes are an archive or not text."""
    mime = magic.from_buffer(head, mime=True) if head else "application/x-empty"
    if mime in _ARCHIVE_MIME_TYPES and not _is_office_zip(head):
        raise ArchiveRefused(
            "archive.nested_archive",
            f"'{path}' is named like a CSV file but is a compressed archive ({mime}). "
            "Unzip it and put its CSV files straight into the zip you upload.",
            path=path,
        )
    if mime.startswith("text/") or mime in _TEXT_MIME_TYPES:
        return
    if mime == "application/octet-stream" and _mostly_text(head):
        return
    raise ArchiveRefused(
        "archive.not_csv",
        f"'{path}' is named like a CSV file but holds {_describe(mime)}, not CSV text. "
        "Save it as CSV (UTF-8) and upload again.",
        path=path,
    )


def _describe(mime: str) -> str:
    """What a person would call content of this MIME type."""
    if mime in _DOCUMENT_NAMES:
        return _DOCUMENT_NAMES[mime]
    if mime in _ARCHIVE_MIME_TYPES:
        return "an Office document"  # only Office zips get this far
    kind = mime.split("/")[0]
    if kind == "image":
        return "an image"
    return f"data of type {mime}"


def _is_office_zip(head: bytes) -> bool:
    # Office files are zips; libmagic names them only when their parts come first.
    return head.startswith(b"PK") and any(
        part in head for part in (b"[Content_Types].xml", b"xl/", b"word/", b"ppt/")
    )


def _mostly_text(head: bytes) -> bool:
    controls = len(_CONTROL_BYTES.findall(head))
    return controls <= max(2, len(head) // 50)


def _read_failure(info: zipfile.ZipInfo, error: BaseException) -> ArchiveRefused:
    # Python 3.12+ zipfile spots overlapping entries itself when an entry is opened.
    if "overlapped" in str(error).lower():
        return ArchiveRefused(
            "archive.ratio",
            f"The zip entry '{info.filename}' overlaps another entry's data, "
            f"a trick used by zip bombs. {_REMAKE}",
            path=info.filename,
        )
    return _damaged(info)


def _damaged(info: zipfile.ZipInfo) -> ArchiveRefused:
    return ArchiveRefused(
        "archive.not_zip",
        f"The zip entry '{info.filename}' is damaged and can't be read. {_REMAKE}",
        path=info.filename,
    )


def _size(size: int) -> str:
    """A byte count as people read it: 512 bytes, 3.4 KB, 1.0 GB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
