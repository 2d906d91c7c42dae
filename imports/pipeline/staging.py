"""Staging: one CSV file's records become staged rows with their issues.

Records arrive in chunks from the CSV reader. First, one statement stages as
unchanged the records imported before whose data their person still has,
copying their values from the versions they made inside the database. Each
other record becomes a row of a pandas frame, the field rules run over whole
columns, the accepted rows are matched against the database (two queries a
chunk at most), and the chunk's rows and issues are written in one bulk insert
each. A chunk is staged in one transaction.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence

import pandas as pd
from django.db import transaction

from imports.models import BatchFile, ImportBatch, RowAction, RowIssue, RowStatus, StagedRow
from participants.models import PrapData, PrapVersion

from . import bulk
from .columns import COLUMNS_BY_FIELD, DATE_FIELDS, FLAG_FIELDS
from .csvfile import CsvFile, Record
from .digest import column_texts, digests, extra_text, source_hashes
from .matching import MatchOptions, RowKey, decide, known_unchanged_sql
from .rules import apply_rules

# What a staged row and a version share: copied between the two inside the database.
VERSION_FIELDS = (*PrapData.DATA_FIELDS, "extra", "data_hash", "source_hash")
STAGED_FIELDS = (
    "id", "batch", "file", "line", "status", "action", "matched_participant", "planned_username",
    *VERSION_FIELDS,
)  # fmt: skip
ISSUE_FIELDS = ("batch", "row", "severity", "code", "column", "message")
_DISPLAY_FIELDS = ("first_name", "last_name", "po_number", "nino", "email")

Issue = tuple[str, str, str, str]  # severity, code, column, message


def stage_file(
    *,
    batch: ImportBatch,
    batch_file: BatchFile,
    csv_file: CsvFile,
    options: MatchOptions,
    today: datetime.date,
    chunk_rows: int,
    on_rows: Callable[[int], None],
) -> int:
    """Validate, match and stage every record of one CSV file; return how many were staged.

    ``on_rows`` is told after each chunk how many records it held, for progress.
    """
    staged = 0
    for chunk in csv_file.chunks(chunk_rows):
        staged += _stage_chunk(batch, batch_file, csv_file, chunk, options, today)
        on_rows(len(chunk))
    return staged


def _stage_chunk(
    batch: ImportBatch,
    batch_file: BatchFile,
    csv_file: CsvFile,
    chunk: Sequence[Record],
    options: MatchOptions,
    today: datetime.date,
) -> int:
    good = [record for record in chunk if record.shape_ok]
    misshapen = [record for record in chunk if not record.shape_ok]
    hashes = source_hashes(_column_names(csv_file), (record.values for record in good))
    with transaction.atomic():
        bulk.skip_commit_flush()
        # Keys in the file's order, so the report lists the rows as the file does.
        ids = bulk.allocate_ids(StagedRow, len(chunk))
        good_ids = ids[: len(good)]
        unchanged = _stage_unchanged(batch, batch_file, good, hashes, good_ids, options)
        fresh = [
            (record, h, row_id)
            for record, h, row_id in zip(good, hashes, good_ids, strict=True)
            if row_id not in unchanged
        ]
        issues_of: list[tuple[int, list[Issue]]] = []  # row key, its issues
        if fresh:
            columns, row_issues = _validated_columns(
                batch, batch_file, csv_file, fresh, options, today
            )
            bulk.insert_columns(StagedRow, columns)
            issues_of += zip(columns["id"], row_issues, strict=True)
        misshapen_rows = [
            _misshapen_row(batch, batch_file, csv_file, record, row_id)
            for record, row_id in zip(misshapen, ids[len(good) :], strict=True)
        ]
        bulk.insert_rows(StagedRow, STAGED_FIELDS, misshapen_rows)
        issues_of += (
            (row[0], [_shape_issue(record, len(csv_file.headers))])
            for row, record in zip(misshapen_rows, misshapen, strict=True)
        )
        bulk.insert_rows(
            RowIssue,
            ISSUE_FIELDS,
            ((batch.pk, row_id, *issue) for row_id, issues in issues_of for issue in issues),
        )
    return len(chunk)


def _column_names(csv_file: CsvFile) -> list[str]:
    """What each column of the file is: its contract field, or its header."""
    return [
        field if field is not None else f"+{header.strip()}"
        for header, field in zip(csv_file.headers, csv_file.fields, strict=True)
    ]


def _stage_unchanged(
    batch: ImportBatch,
    batch_file: BatchFile,
    records: Sequence[Record],
    hashes: Sequence[str],
    ids: Sequence[int],
    options: MatchOptions,
) -> set[int]:
    """Stage the records known unchanged, in one statement; return their rows' keys.

    Their values are copied inside the database from the versions they made.
    """
    known = known_unchanged_sql("k.h", options=options)
    if known is None:
        return set()
    version, version_params = known
    keyed = [
        (row_id, record.line, h)
        for record, h, row_id in zip(records, hashes, ids, strict=True)
        if h
    ]
    if not keyed:
        return set()
    keys, key_params = bulk.values_table(
        "k", [("id", "bigint"), ("line", "integer"), ("h", "text")], list(zip(*keyed, strict=True))
    )
    columns = {
        "id": "k.id",
        "batch": "%s",
        "file": "%s",
        "line": "k.line",
        "status": "%s",
        "action": "%s",
        "matched_participant": f"v.{bulk.column(PrapVersion, 'participant')}",
        "planned_username": "''",
        **{field: f"v.{bulk.column(PrapVersion, field)}" for field in VERSION_FIELDS},
    }
    names = ", ".join(bulk.column(StagedRow, field) for field in columns)
    staged = bulk.fetch(
        f"INSERT INTO {bulk.table(StagedRow)} ({names}) SELECT {', '.join(columns.values())} "
        f"FROM {keys} JOIN {bulk.table(PrapVersion)} v ON v.id = {version} RETURNING id",
        [
            batch.pk, batch_file.pk, RowStatus.ACCEPTED, RowAction.UNCHANGED,
            *key_params, *version_params,
        ],
    )  # fmt: skip
    return {row_id for (row_id,) in staged}


def _validated_columns(
    batch: ImportBatch,
    batch_file: BatchFile,
    csv_file: CsvFile,
    fresh: Sequence[tuple[Record, str, int]],
    options: MatchOptions,
    today: datetime.date,
) -> tuple[dict[str, list[object]], list[list[Issue]]]:
    """Staged rows, column by column, of records validated and matched afresh, and their issues.

    ``fresh`` holds (record, source digest, row key) for each record.
    """
    records = [record for record, _, _ in fresh]
    # The records as columns, one tuple of cells per column of the file.
    file_columns = list(zip(*(record.values for record in records), strict=True))
    frame = _frame(file_columns, csv_file, len(records))
    result = apply_rules(frame, today=today)
    issues: list[list[Issue]] = [[] for _ in records]
    rejected = [False] * len(records)
    for row, severity, code, column, message in result.issues.itertuples(index=False):
        issues[int(row)].append((severity, code, column, message))
        if severity == RowIssue.Severity.ERROR:
            rejected[int(row)] = True
    # A record no rule found fault with may be known later without validating it
    # again; what matching says of it depends on the database, asked each time.
    sources = [h if not found else "" for (_, h, _), found in zip(fresh, issues, strict=True)]

    columns = {
        field: _as_model_values(field, result.values[field]) for field in PrapData.DATA_FIELDS
    }
    extras = _extra_texts(file_columns, csv_file, len(records))
    row_digests = digests(
        [
            column_texts(values) if field in DATE_FIELDS or field in FLAG_FIELDS else values
            for field, values in columns.items()
        ],
        extras,
    )
    ninos, emails = columns["nino"], columns["email"]

    accepted = [i for i, is_rejected in enumerate(rejected) if not is_rejected]
    decisions = decide(
        [RowKey(ninos[i], emails[i], row_digests[i]) for i in accepted], options=options
    )
    actions: dict[int, tuple[str, int | None]] = {}
    for i, decision in zip(accepted, decisions, strict=True):
        issues[i] += [(x.severity, x.code, x.column, x.message) for x in decision.issues]
        if decision.rejected:
            rejected[i] = True
        else:
            actions[i] = (decision.action, decision.participant_id)

    count = len(records)
    planned = [actions.get(i, ("", None)) for i in range(count)]
    status = [RowStatus.REJECTED if is_rejected else RowStatus.ACCEPTED for is_rejected in rejected]
    staged = {
        "id": [row_id for _, _, row_id in fresh],
        "batch": [batch.pk] * count,
        "file": [batch_file.pk] * count,
        "line": [record.line for record in records],
        "status": status,
        "action": [action for action, _ in planned],
        "matched_participant": [participant_id for _, participant_id in planned],
        "planned_username": [
            planned_username(email) if action == RowAction.CREATE else ""
            for (action, _), email in zip(planned, emails, strict=True)
        ],
        **columns,
        "extra": extras,
        "data_hash": ["" if r else h for r, h in zip(rejected, row_digests, strict=True)],
        "source_hash": ["" if r else h for r, h in zip(rejected, sources, strict=True)],
    }
    return staged, issues


def planned_username(email: str) -> str:
    """A new person's username: their email, or a random GUID when the file has none."""
    return email or str(uuid.uuid4())


def _frame(file_columns: Sequence[Sequence[str]], csv_file: CsvFile, rows: int) -> pd.DataFrame:
    """The contract's columns of the file as a frame of trimmed text ("" when empty)."""
    data = {
        field: _trimmed(cells)
        for field, cells in zip(csv_file.fields, file_columns, strict=True)
        if field in COLUMNS_BY_FIELD
    }
    return pd.DataFrame(data, index=range(rows), dtype=object)


def _trimmed(cells: Sequence[str]) -> list[str]:
    """The cells without surrounding white space, copied to lie together in memory.

    The parser leaves each record's cells side by side, but the rules read one
    column at a time, which is much faster when the column's text is one run
    of memory. Joining with NUL and splitting again makes that copy in two
    calls. A column holding a NUL of its own (rejected for it anyway) keeps
    its cells where they are.
    """
    joined = "\0".join(cells)
    if joined.count("\0") != len(cells) - 1:
        return list(map(str.strip, cells))
    return list(map(str.strip, joined.split("\0")))


def _as_model_values(field: str, values: pd.Series) -> list[object]:
    """A result column as the model takes it: text never None, dates and flags may be."""
    if field in DATE_FIELDS or field in FLAG_FIELDS:
        return values.astype(object).where(values.notna(), None).tolist()
    return values.fillna("").tolist()


def _extra_texts(file_columns: Sequence[Sequence[str]], csv_file: CsvFile, rows: int) -> list[str]:
    """Per record, the values of the columns the contract does not know, as stored JSON."""
    unknown = {
        header.strip(): cells
        for header, field, cells in zip(
            csv_file.headers, csv_file.fields, file_columns, strict=True
        )
        if field is None and header.strip()
    }
    no_extra = extra_text({})
    if not unknown:
        return [no_extra] * rows
    texts = []
    for values in zip(*unknown.values(), strict=True):
        extra = {
            header: value
            for header, cell in zip(unknown, values, strict=True)
            if (value := cell.strip())
        }
        texts.append(extra_text(extra) if extra else no_extra)
    return texts


def _misshapen_row(
    batch: ImportBatch, batch_file: BatchFile, csv_file: CsvFile, record: Record, row_id: int
) -> list[object]:
    """A rejected row for a record of the wrong width, showing whose it seems to be."""
    display: dict[str, str] = {}
    for position, field in enumerate(csv_file.fields):
        if field in _DISPLAY_FIELDS and position < len(record.values):
            limit = StagedRow._meta.get_field(field).max_length
            display[field] = _printable(record.values[position].strip())[:limit]
    values = {field: None if (field in DATE_FIELDS or field in FLAG_FIELDS) else display.get(field, "")
              for field in PrapData.DATA_FIELDS}  # fmt: skip
    return [
        row_id, batch.pk, batch_file.pk, record.line, RowStatus.REJECTED, "", None, "",
        *values.values(), "{}", "", "",
    ]  # fmt: skip


def _printable(text: str) -> str:
    # PostgreSQL refuses NUL in text; control characters are never shown anyway.
    return "".join(ch for ch in text if ch >= " " or ch == "\t")


def _shape_issue(record: Record, header_width: int) -> Issue:
    return (
        RowIssue.Severity.ERROR,
        "row.shape",
        "",
        f"Line {record.line} has {len(record.values)} fields but the header has "
        f"{header_width}. Check for a stray delimiter or a missing quote.",
    )
