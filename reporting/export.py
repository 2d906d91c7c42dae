"""Streaming report exports: CSV row by row (``csv_lines``), XLSX through a temporary file."""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable

from openpyxl import Workbook

from prap_portal.spreadsheet import csv_lines, safe_text


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


__all__ = ["csv_lines", "xlsx_file"]
