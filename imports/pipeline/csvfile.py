"""Decoding and parsing one CSV entry of a bundle, streaming (spec §2, §3 and §5 'File').

Plain Python, no Django. ``open_csv`` reads the entry once to choose the
encoding, then parses the header and peeks at the first record, so a file that
cannot be imported at all is rejected (``FileRejected``) before any row is
handed on. ``CsvFile.chunks`` parses the entry again from the start and yields
its records in lists; nothing ever holds more than one chunk and one physical
line.

Decisions worth knowing:

- Encoding: a UTF-8 BOM means UTF-8 and a UTF-16 BOM means UTF-16; a file that
  then fails to decode is ``file.undecodable`` rather than read another way.
  Without a BOM, valid UTF-8 is UTF-8, anything else is Windows-1252 with the
  warning ``file.decoded_cp1252``, unless it holds one of the five bytes
  Windows-1252 leaves undefined.
- Blank lines, including lines of only white space, are not records and are
  not counted as rows, but they still count as physical lines.
- A header cell that is blank is a column without a name: its field is None,
  it is not listed as an unknown column and never counts as a duplicate.
- An unterminated quote is reported at the line where it opens, found by
  scanning the record again after the parser gives up.
- A physical line longer than ``MAX_LINE_CHARS`` is ``file.bad_quoting``: such
  a file cannot be split into rows, and reading on would hold it all in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .columns import COLUMNS_BY_FIELD, FOLDED_TO_FIELD, REQUIRED_FIELDS, fold_header

FIELD_SIZE_LIMIT = 10 * 1024 * 1024
MAX_LINE_CHARS = 16 * 1024 * 1024

_READ_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')
# The bytes Windows-1252 leaves undefined; Python's cp1252 codec refuses exactly these.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_SAVE_AS_UTF8 = "Save the file as 'CSV UTF-8' and upload again."


class FileRejected(Exception):
    """The whole file is rejected; ``code`` is from spec §5, ``message`` tells the user what to do."""

    def __init__(self, code: str, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


@dataclass
class Record:
    """One data record: where it starts, its cells as parsed, and whether its width fits."""

    line: int
    values: list[str]
    shape_ok: bool


@dataclass
class CsvFile:
    """A CSV entry whose encoding, delimiter and header are known and acceptable."""

    encoding: str
    delimiter: str
    headers: list[str]
    fields: list[str | None]
    unknown_columns: list[str]
    warnings: list[tuple[str, str]]
    _open_stream: Callable[[], BinaryIO] = field(repr=False, compare=False, kw_only=True)
    _max_rows: int = field(repr=False, compare=False, kw_only=True)

    def chunks(self, size: int) -> Iterator[list[Record]]:
        """Parse the file from the start and yield its data records, ``size`` at a time.

        Raises ``FileRejected`` (``file.bad_quoting``, ``file.too_many_rows``) as
        soon as the problem is reached; chunks already yielded stand.
        """
        if size < 1:
            raise ValueError("size must be at least 1")
        with _Parser(self._open_stream, self.encoding, self.delimiter) as parser:
            parser.next_record()  # the header, checked by open_csv
            chunk: list[Record] = []
            count = 0
            while (found := parser.next_record()) is not None:
                line, values = found
                count += 1
                if count > self._max_rows:
                    raise FileRejected(
                        "file.too_many_rows",
                        f"The file has more than {self._max_rows:,} rows (line {line} is one "
                        f"too many). Split it into files of at most {self._max_rows:,} rows "
                        "and upload again.",
                        line=line,
                    )
                chunk.append(Record(line, values, len(values) == len(self.headers)))
                if len(chunk) == size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk


def open_csv(open_stream: Callable[[], BinaryIO], *, max_rows: int) -> CsvFile:
    """Decide the encoding, read and check the header, and make sure a data row follows.

    ``open_stream`` returns a fresh binary stream of the entry from its start on
    every call; it is called more than once. Raises ``FileRejected`` for
    ``file.empty``, ``file.undecodable``, ``file.duplicate_header``,
    ``file.missing_columns``, ``file.bad_quoting`` and ``file.no_rows``.
    """
    encoding = _detect_encoding(open_stream)
    warnings: list[tuple[str, str]] = []
    if encoding == "cp1252":
        warnings.append(
            (
                "file.decoded_cp1252",
                "The file is not UTF-8, so it was read as Windows-1252 (Excel's usual CSV "
                "encoding). Check that letters such as é and symbols such as £ look right; "
                "saving the file as 'CSV UTF-8' avoids this.",
            )
        )
    with _Parser(open_stream, encoding, None) as parser:
        header = parser.next_record()
        if header is None:
            raise _empty()
        headers = [header[1][0].lstrip("\ufeff"), *header[1][1:]]
        fields, unknown = _match_headers(headers)
        if parser.next_record() is None:
            raise FileRejected(
                "file.no_rows",
                "The file has a header row but no data rows. Export it again with the "
                "referrals in it, or leave it out of the zip.",
            )
        delimiter = parser.delimiter
    if unknown:
        warnings.append(
            (
                "file.unknown_columns",
                "Columns not in the PRaP format were kept as additional details: "
                + ", ".join(name.strip() for name in unknown)
                + ".",
            )
        )
    return CsvFile(
        encoding=encoding,
        delimiter=delimiter,
        headers=headers,
        fields=fields,
        unknown_columns=unknown,
        warnings=warnings,
        _open_stream=open_stream,
        _max_rows=max_rows,
    )


def _empty() -> FileRejected:
    return FileRejected(
        "file.empty", "The file is empty. Export it from PRaP again, or leave it out of the zip."
    )


def _match_headers(headers: list[str]) -> tuple[list[str | None], list[str]]:
    """Each header's contract field (None when unknown), and the unknown headers.

    Raises ``file.duplicate_header`` and ``file.missing_columns``.
    """
    fields: list[str | None] = []
    unknown: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for header in headers:
        folded = fold_header(header)
        contract_field = FOLDED_TO_FIELD.get(folded) if folded else None
        fields.append(contract_field)
        if not folded:
            continue  # a blank header cell: a column without a name
        if contract_field is None:
            unknown.append(header)
        key = ("field", contract_field) if contract_field else ("unknown", folded)
        first = seen.get(key)
        if first is None:
            seen[key] = header
            continue
        if first.strip() == header.strip():
            message = f"The column '{header.strip()}' appears twice; keep one."
        else:
            message = (
                f"The columns '{first.strip()}' and '{header.strip()}' are the same column; "
                "keep one."
            )
        raise FileRejected("file.duplicate_header", message, line=1)
    missing = [COLUMNS_BY_FIELD[f].name for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
        raise FileRejected("file.missing_columns", f"The file has no {names} column.", line=1)
    return fields, unknown


def _detect_encoding(open_stream: Callable[[], BinaryIO]) -> str:
    """Read the entry once and name the codec that decodes it (spec §2).

    Raises ``file.empty`` for a file of nothing but white space and BOMs, and
    ``file.undecodable`` when no allowed encoding fits.
    """
    with open_stream() as stream:
        blocks = _blocks(stream)
        first = next(blocks, b"")
        if first.startswith(codecs.BOM_UTF8):
            return _check_declared(itertools.chain([first], blocks), "utf-8-sig")
        if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _check_declared(itertools.chain([first], blocks), "utf-16")
        return _guess_8bit(itertools.chain([first], blocks))


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes in blocks; the first holds at least 3 bytes when the file does."""
    pending = b""
    while True:
        block = stream.read(_READ_BYTES)
        if not block:
            break
        pending += block
        if len(pending) >= 3:
            yield pending
            pending = b""
    if pending:
        yield pending


def _check_declared(blocks: Iterable[bytes], codec: str) -> str:
    """Decode the whole file with the codec its BOM declares."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    lines = _LineCounter()
    blank = True
    block = b""
    try:
        for block in blocks:
            text = decoder.decode(block)
            blank = blank and not text.replace("\ufeff", "").strip()
            lines.feed(block)
        block = b""
        tail = decoder.decode(b"", True)  # a sequence cut short at the end fails only here
        blank = blank and not tail.replace("\ufeff", "").strip()
    except UnicodeDecodeError as error:
        if codec == "utf-16":
            raise FileRejected(
                "file.undecodable",
                "The file starts with a UTF-16 byte order mark but is not valid UTF-16. "
                + _SAVE_AS_UTF8,
            ) from None
        # The decoder's input ends with this block, after bytes it held back from the last.
        offset = max(0, len(block) - (len(error.object) - error.start))
        line = lines.line_at(block, offset)
        raise FileRejected(
            "file.undecodable",
            "The file starts with a UTF-8 byte order mark, but line "
            f"{line} has bytes that are not valid UTF-8. " + _SAVE_AS_UTF8,
            line=line,
        ) from None
    if blank:
        raise _empty()
    return codec


def _guess_8bit(blocks: Iterable[bytes]) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else Windows-1252 when it can."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    undefined: tuple[int, int] | None = None  # (line, byte) of the first byte cp1252 lacks
    lines = _LineCounter()
    blank = True
    for block in blocks:
        if utf8:
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                utf8 = False
        if undefined is None and (match := _CP1252_UNDEFINED.search(block)):
            undefined = (lines.line_at(block, match.start()), block[match.start()])
        blank = blank and not block.strip()
        lines.feed(block)
        if not utf8 and undefined is not None:
            break  # neither encoding can work; no need to read on
    if utf8:
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            utf8 = False
    if blank:
        raise _empty()
    if utf8:
        return "utf-8"
    if undefined is not None:
        line, byte = undefined
        raise FileRejected(
            "file.undecodable",
            f"The file can't be read as text: line {line} has a byte (0x{byte:02X}) that is "
            "neither UTF-8 nor Windows-1252. " + _SAVE_AS_UTF8,
            line=line,
        )
    return "cp1252"


class _LineCounter:
    """Counts physical lines over blocks of bytes: CRLF, LF and a lone CR each end one."""

    def __init__(self) -> None:
        self.line = 1
        self._ends_with_cr = False

    def feed(self, block: bytes) -> None:
        self.line = self.line_at(block, len(block))
        self._ends_with_cr = block.endswith(b"\r")

    def line_at(self, block: bytes, offset: int) -> int:
        """The line number of ``block[offset]``."""
        head = block[:offset]
        breaks = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")
        if self._ends_with_cr and head.startswith(b"\n"):
            breaks -= 1  # the CRLF was split between blocks
        return self.line + breaks


class _Parser:
    """One pass over the entry with the csv module: records and their first lines."""

    def __init__(
        self, open_stream: Callable[[], BinaryIO], encoding: str, delimiter: str | None
    ) -> None:
        # The limit is process-wide in the csv module; it is only ever raised here.
        if csv.field_size_limit() < FIELD_SIZE_LIMIT:
            csv.field_size_limit(FIELD_SIZE_LIMIT)
        self._open_stream = open_stream
        self._encoding = encoding
        # newline="" lets the csv module see CR, LF and CRLF, inside quotes too.
        self._text = io.TextIOWrapper(open_stream(), encoding=encoding, newline="")
        try:
            lines = _physical_lines(self._text)
            leading = self._header_lines(lines)
            self.delimiter = delimiter or _detect_delimiter(leading)
            self._reader = csv.reader(
                itertools.chain(leading, lines), delimiter=self.delimiter, strict=True
            )
        except BaseException:
            self._text.close()
            raise

    @staticmethod
    def _header_lines(lines: Iterator[str]) -> list[str]:
        """The lines up to the end of the header: blank ones, then the header's own."""
        leading: list[str] = []
        for line in lines:
            leading.append(line)
            if line.strip():
                break
        # A quoted header name may hold a line break: read on until the quotes balance.
        quotes = leading[-1].count('"') if leading else 0
        size = sum(map(len, leading))
        while quotes % 2 and size < MAX_LINE_CHARS:
            line = next(lines, None)
            if line is None:
                break
            leading.append(line)
            quotes += line.count('"')
            size += len(line)
        return leading

    def next_record(self) -> tuple[int, list[str]] | None:
        """The next non-blank record with the line it starts on, or None at the end."""
        while True:
            start = self._reader.line_num + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return None
            except csv.Error as error:
                raise self._quoting_error(error, start) from None
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # a blank line is not a record
            return start, values

    def _quoting_error(self, error: csv.Error, start: int) -> FileRejected:
        current = self._reader.line_num
        text = str(error)
        if "unexpected end of data" in text or "field larger than field limit" in text:
            at_end = "unexpected end of data" in text
            opened = _find_open_quote(
                self._open_stream,
                self._encoding,
                self.delimiter,
                start=start,
                end=None if at_end else current,
            )
            if opened is None and at_end:
                opened = start  # the scan should always find it; the record's start is close
            if opened is not None:
                return FileRejected(
                    "file.bad_quoting",
                    f"The quote opened on line {opened} is never closed.",
                    line=opened,
                )
            return FileRejected(
                "file.bad_quoting",
                f"Line {current} holds a value longer than {FIELD_SIZE_LIMIT // (1 << 20)} MB. "
                "Check the file is a PRaP CSV export.",
                line=current,
            )
        if "expected after" in text:
            return FileRejected(
                "file.bad_quoting",
                f"Line {current} has text straight after a closing quote. Put the whole value "
                'in quotes and double any quote inside it ("").',
                line=current,
            )
        return FileRejected(
            "file.bad_quoting", f"Line {current} can't be read as CSV ({text}).", line=current
        )

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> _Parser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _physical_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The text's lines with their endings, refusing one too long to hold in memory."""
    number = 0
    while True:
        try:
            line = text.readline(MAX_LINE_CHARS)
        except UnicodeDecodeError:
            # The encoding was checked on a first pass; only a stream that changed gets here.
            raise FileRejected(
                "file.undecodable",
                f"Line {number + 1} can't be decoded as {text.encoding}. " + _SAVE_AS_UTF8,
                line=number + 1,
            ) from None
        if not line:
            return
        number += 1
        if len(line) >= MAX_LINE_CHARS:
            raise FileRejected(
                "file.bad_quoting",
                f"Line {number} is longer than {MAX_LINE_CHARS:,} characters, so the file "
                "can't be split into rows. Check the file is a PRaP CSV export.",
                line=number,
            )
        yield line


def _detect_delimiter(lines: list[str]) -> str:
    """The delimiter used most in the header outside quotes; comma on ties or none."""
    header = _QUOTED.sub("", "".join(lines))
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    best = max(counts.values())
    winners = [delimiter for delimiter, count in counts.items() if count == best]
    if best == 0 or len(winners) > 1:
        return ","
    return winners[0]


def _find_open_quote(
    open_stream: Callable[[], BinaryIO],
    encoding: str,
    delimiter: str,
    *,
    start: int,
    end: int | None,
) -> int | None:
    """The line where a quote left open at ``end`` (or the end of file) was opened.

    Scans again from ``start``, the first line of the record the csv module gave
    up on, following its rules: a quote opens a field only at the field's start,
    and two quotes inside a quoted field stand for one.
    """
    in_quotes = False
    at_field_start = True
    opened: int | None = None
    with io.TextIOWrapper(open_stream(), encoding=encoding, newline="") as text:
        try:
            for number, line in enumerate(_physical_lines(text), start=1):
                if number < start:
                    continue
                if end is not None and number > end:
                    break
                i = 0
                while i < len(line):
                    if in_quotes:
                        closing = line.find('"', i)
                        if closing < 0:
                            break
                        if line.startswith('"', closing + 1):
                            i = closing + 2  # an escaped quote
                            continue
                        in_quotes = False
                        at_field_start = False
                        i = closing + 1
                        continue
                    char = line[i]
                    if char == '"' and at_field_start:
                        in_quotes, opened = True, number
                    at_field_start = char == delimiter or char in "\r\n"
                    i += 1
        except (FileRejected, UnicodeDecodeError):
            return None
    return opened if in_quotes else None
