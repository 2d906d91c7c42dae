"""Bulk writes below the ORM, for the import's hot paths.

Building model instances costs more than the database's own work when a
bundle holds a hundred thousand rows. Rows are written as plain tuples:
PostgreSQL through ``COPY``, SQLite through ``executemany``. Statements that
move data between tables run as ``INSERT ... SELECT`` and ``UPDATE`` in the
database, written in the SQL the two databases share.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterable, Mapping, Sequence

from django.db import connection
from django.db.models import Field, Model


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


_SEQUENCES: dict[str, str] = {}  # table -> the sequence of its keys


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken before the rows are written.

    On SQLite this must run in the transaction that writes the rows: the
    project's SQLite transactions start IMMEDIATE, so no other writer can take
    the same keys in between.
    """
    if count == 0:
        return []
    name = model._meta.db_table
    with connection.cursor() as cursor:
        if is_postgresql():
            # The sequence named as a constant: asked for row by row, its name
            # alone would cost a catalog look-up per key.
            if name not in _SEQUENCES:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [name])
                _SEQUENCES[name] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_SEQUENCES[name], count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table(model)}")
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def insert_rows(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Insert tuples whose values follow ``fields`` (model field names); see insert_columns."""
    values = list(zip(*rows, strict=True))
    if values:
        insert_columns(model, dict(zip(fields, values, strict=True)))


def insert_columns(model: type[Model], columns: Mapping[str, Sequence[object]]) -> None:
    """Insert rows given column by column: model field names to equally long sequences.

    Values are plain: text, numbers, dates, booleans or None; JSON columns take
    their JSON as text. PostgreSQL takes them through ``COPY`` in its text
    format, each column turned to text in one pass; SQLite through
    ``executemany``.
    """
    names = ", ".join(column(model, field) for field in columns)
    with connection.cursor() as cursor:
        if is_postgresql():
            texts = [
                _copy_texts(model._meta.get_field(field), values)
                for field, values in columns.items()
            ]
            if not texts or not texts[0]:
                return
            data = "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"
            cursor.copy_expert(f"COPY {table(model)} ({names}) FROM STDIN", io.StringIO(data))
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(
                f"INSERT INTO {table(model)} ({names}) VALUES ({marks})",
                [
                    tuple(_sqlite_value(value) for value in row)
                    for row in zip(*columns.values(), strict=True)
                ],
            )


# COPY's text format: a backslash starts an escape, a tab ends a value, a line
# break ends a row, and \N is NULL.
_NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_FLAGS = {True: "t", False: "f", None: _NULL}


def _copy_texts(field: Field, values: Sequence[object]) -> Sequence[str]:
    """One column's values as COPY text; a column of plain text is passed as it is."""
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "JSONField"):
        if None not in values and all(map(str.__instancecheck__, values)):
            if not any(special in "".join(values) for special in _SPECIAL):
                return values
        return [_NULL if value is None else str(value).translate(_ESCAPED) for value in values]
    if kind == "BooleanField":
        return list(map(_FLAGS.__getitem__, values))
    if kind == "DateField":
        return list(map(_DayTexts().__getitem__, values))
    return [_NULL if value is None else str(value) for value in values]


class _DayTexts(dict[object, str]):
    """ISO text of each date, worked out the first time it is asked for."""

    def __missing__(self, day: object) -> str:
        text = self[day] = _NULL if day is None else day.isoformat()
        return text


def skip_commit_flush() -> None:
    """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL).

    For staged rows only: a crash can lose the last moments of a validation, never
    corrupt it, and validating the batch again rebuilds everything staged.
    """
    if is_postgresql():
        execute("SET LOCAL synchronous_commit TO OFF")


def delete_staged(batch_id: int) -> None:
    """Delete a batch's staged rows, their issues and outcomes and its files, a statement each.

    The ORM's cascade would first read every row's key into memory, which for a
    bundle of a million rows is the most memory the import would ever use.
    """
    from imports.models import BatchFile, RowIssue, RowOutcome, StagedRow

    for model in (RowIssue, RowOutcome, StagedRow, BatchFile):
        execute(f"DELETE FROM {table(model)} WHERE {column(model, 'batch')} = %s", [batch_id])


def refresh_statistics(model: type[Model], *fields: str) -> None:
    """Let the planner see the rows just written, before the queries that read them.

    With ``fields``, only those columns are measured: measuring every column of a
    wide table costs a second a hundred thousand rows. Statistics of indexed
    expressions are measured only without ``fields``.
    """
    if is_postgresql():
        columns = ", ".join(column(model, field) for field in fields)
        execute(f"ANALYZE {table(model)}" + (f" ({columns})" if columns else ""))


def values_table(
    alias: str, columns: Sequence[tuple[str, str]], values: Sequence[Sequence[object]]
) -> tuple[str, list[object]]:
    """A FROM item of rows given column by column, named ``alias`` with ``columns``' names.

    ``columns`` are (name, PostgreSQL type) and ``values`` one sequence per
    column. PostgreSQL unnests one array per column, each passed through a
    sub-select, whose length the planner does not know: told that ten thousand
    keys are coming it would hash them and scan the table they join, where not
    told it probes the index once a key. SQLite reads the rows from JSON.
    """
    names = [name for name, _ in columns]
    if is_postgresql():
        arrays = ", ".join(f"(SELECT %s::{kind}[])" for _, kind in columns)
        return f"unnest({arrays}) AS {alias}({', '.join(names)})", [list(v) for v in values]
    picks = ", ".join(f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(names))
    rows = json.dumps([list(row) for row in zip(*values, strict=True)])
    return f"(SELECT {picks} FROM json_each(%s)) AS {alias}", [rows]


def fetch(sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence[object] = ()) -> int:
    """Run one statement; return the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def random_text_sql(kind: str) -> str:
    """SQL for a fresh random value per row: ``uuid`` (a GUID) or ``password``."""
    if is_postgresql():
        return "gen_random_uuid()::text" if kind == "uuid" else "'!' || md5(random()::text)"
    if kind == "uuid":
        return (
            "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)"
            " || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
            " || '-' || hex(randomblob(6)))"
        )
    return "'!' || hex(randomblob(20))"


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
