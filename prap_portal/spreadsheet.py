"""CSV exports that are safe to open in a spreadsheet (no Django).

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a tab or carriage return) as a formula. A value that came
from an upload must never do that, so such a value is prefixed with a single
quote, which spreadsheets read as "this is text" and hide. Everything else
round-trips as it is, quoted per RFC 4180 by the csv module.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Return ``text`` unchanged, or prefixed with ``'`` when it could run as a formula."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def safe_cell(value: object) -> str:
    """Render one value as the text of a CSV cell that no spreadsheet will run.

    Missing values become an empty cell, flags ``Yes``/``No``, dates and times
    ISO 8601; numbers are written as they are (a negative number is data, not
    a formula). Any other value is text and is neutralised by ``safe_text``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return safe_text(str(value))


class _Echo:
    """A file-like object whose write returns the text, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Stream CSV text line by line: a byte-order mark (for Excel), the header, each row."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
