"""Staging: one CSV file's records become staged rows with their issues.

Records arrive in chunks from the CSV reader; each chunk becomes a pandas
frame, the field rules run over whole columns, and the chunk's rows and
issues are written with one bulk insert each.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

import pandas as pd

from imports.models import BatchFile, ImportBatch, RowIssue, RowStatus, StagedRow
from participants.models import PrapData

from .columns import COLUMNS_BY_FIELD, DATE_FIELDS, FLAG_FIELDS
from .csvfile import CsvFile, Record
from .digest import data_digest
from .rules import apply_rules

_INSERT_BATCH = 2000
_DISPLAY_FIELDS = ("first_name", "last_name", "po_number", "nino", "email")


def stage_file(
    *,
    batch: ImportBatch,
    batch_file: BatchFile,
    csv_file: CsvFile,
    today: datetime.date,
    chunk_rows: int,
    on_rows: Callable[[int], None],
) -> int:
    """Validate and stage every record of one CSV file; return how many were staged.

    ``on_rows`` is told after each chunk how many records it held, for progress.
    """
    staged = 0
    for chunk in csv_file.chunks(chunk_rows):
        staged += _stage_chunk(batch=batch, batch_file=batch_file, csv_file=csv_file, chunk=chunk, today=today)
        on_rows(len(chunk))
    return staged


def _stage_chunk(
    *,
    batch: ImportBatch,
    batch_file: BatchFile,
    csv_file: CsvFile,
    chunk: Sequence[Record],
    today: datetime.date,
) -> int:
    good = [record for record in chunk if record.shape_ok]
    misshapen = [record for record in chunk if not record.shape_ok]

    rows: list[StagedRow] = []
    row_issues: list[list[tuple[str, str, str, str]]] = []

    if good:
        frame = _frame(good, csv_file)
        result = apply_rules(frame[[f for f in frame.columns if f in COLUMNS_BY_FIELD]], today=today)
        issues_by_row: dict[int, list[tuple[str, str, str, str]]] = {}
        for issue in result.issues.itertuples(index=False):
            issues_by_row.setdefault(int(issue.row), []).append(
                (issue.severity, issue.code, issue.column, issue.message)
            )
        extras = _extras(good, csv_file)
        records = result.values.to_dict("records")
        for label, (record, values) in enumerate(zip(good, records, strict=True)):
            issues = issues_by_row.get(label, [])
            rejected = any(severity == RowIssue.Severity.ERROR for severity, *_ in issues)
            clean = _clean(values)
            extra = extras[label]
            rows.append(
                StagedRow(
                    batch=batch,
                    file=batch_file,
                    line=record.line,
                    status=RowStatus.REJECTED if rejected else RowStatus.ACCEPTED,
                    extra=extra,
                    data_hash="" if rejected else data_digest(clean, PrapData.DATA_FIELDS, extra),
                    **clean,
                )
            )
            row_issues.append(issues)

    header_width = len(csv_file.headers)
    for record in misshapen:
        display = _display_values(record, csv_file)
        rows.append(
            StagedRow(batch=batch, file=batch_file, line=record.line, status=RowStatus.REJECTED, **display)
        )
        row_issues.append(
            [
                (
                    RowIssue.Severity.ERROR,
                    "row.shape",
                    "",
                    f"Line {record.line} has {len(record.values)} fields but the header has "
                    f"{header_width}. Check for a stray delimiter or a missing quote.",
                )
            ]
        )

    StagedRow.objects.bulk_create(rows, batch_size=_INSERT_BATCH)
    RowIssue.objects.bulk_create(
        [
            RowIssue(batch=batch, row=row, severity=severity, code=code, column=column, message=message)
            for row, issues in zip(rows, row_issues, strict=True)
            for severity, code, column, message in issues
        ],
        batch_size=_INSERT_BATCH,
    )
    return len(rows)


def _frame(records: Sequence[Record], csv_file: CsvFile) -> pd.DataFrame:
    """The contract's columns of these records as a frame of trimmed text, None when empty."""
    positions = {field: i for i, field in enumerate(csv_file.fields) if field is not None}
    data: dict[str, list[object]] = {}
    for field, position in positions.items():
        column = [record.values[position].strip() for record in records]
        data[field] = [value if value else None for value in column]
    return pd.DataFrame(data, index=range(len(records)), dtype=object)


def _extras(records: Sequence[Record], csv_file: CsvFile) -> list[dict[str, str]]:
    unknown = [(i, header.strip()) for i, (header, field) in enumerate(zip(csv_file.headers, csv_file.fields, strict=True)) if field is None]
    if not unknown:
        return [{} for _ in records]
    extras = []
    for record in records:
        extra = {}
        for position, header in unknown:
            value = record.values[position].strip()
            if value:
                extra[header] = value
        extras.append(extra)
    return extras


def _clean(values: dict[str, object]) -> dict[str, object]:
    """Values as the model fields take them: text never None, dates and flags may be."""
    clean: dict[str, object] = {}
    for field in PrapData.DATA_FIELDS:
        value = values.get(field)
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            value = None
        if isinstance(value, pd.Timestamp):
            value = value.date()
        if value is None and _is_text(field):
            value = ""
        clean[field] = value
    return clean


def _is_text(field: str) -> bool:
    return field not in DATE_FIELDS and field not in FLAG_FIELDS


def _display_values(record: Record, csv_file: CsvFile) -> dict[str, str]:
    """Name, PO number, NINO and email of a misshapen record, where they can be found."""
    display = {}
    for position, field in enumerate(csv_file.fields):
        if field in _DISPLAY_FIELDS and position < len(record.values):
            limit = StagedRow._meta.get_field(field).max_length
            display[field] = record.values[position].strip()[:limit]
    return display

