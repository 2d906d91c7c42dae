"""Streaming report exports: CSV row by row, XLSX through a temporary file."""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

from reporting.csv_safety import safe_cell, safe_text


class _Echo:
    """A file-like object whose write returns the text, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headers: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    """The CSV text of a report, one line at a time, every cell neutralised.

    Starts with a byte-order mark so Excel opens the UTF-8 file correctly.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def _xlsx_value(value: object) -> object:
    if isinstance(value, str):
        # openpyxl writes a string that starts with "=" as a formula.
        return safe_text(value)
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: write the local wall-clock time.
        return value.replace(tzinfo=None)
    return value


def xlsx_file(headers: list[str], rows: Iterable[list[object]]) -> tempfile._TemporaryFileWrapper:
    """Write the report to a temporary XLSX file (write-only mode) and rewind it.

    Rows go to disk as they come, so memory stays flat whatever the report size.
    The caller streams the file and closing it deletes it.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    sheet.append([safe_text(h) for h in headers])
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # closed (and so deleted) by the response
    workbook.save(handle)
    handle.seek(0)
    return handle
