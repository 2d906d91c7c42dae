"""Checks across the whole bundle, run in the database once every row is staged.

Running them as grouped queries over the staged rows keeps memory flat however
large the bundle: only the duplicated keys ever reach Python. Two statements
serve the three checks: the first finds every shared PO number, NINO and
email, the second the rows holding any of them, in one pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from imports.models import ImportBatch, RowIssue, RowStatus, StagedRow

from . import bulk

_INSERT_BATCH = 2000


def flag_duplicates(*, batch: ImportBatch) -> int:
    """Reject every copy of a duplicated PO number or NINO, and emails shared by NINOs.

    Returns how many issues were added.
    """
    groups = _rows_sharing(batch)
    issues: list[RowIssue] = []
    issues += _issues(
        batch,
        groups["po_number"],
        "po_number.duplicate",
        "PO Number",
        lambda po_number, rows, row_id: (
            f"PO number {po_number} appears {len(rows)} times in "
            "this bundle; every copy is rejected."
        ),
    )
    issues += _issues(
        batch,
        groups["nino"],
        "nino.duplicate",
        "National Insurance Number",
        lambda _, rows, row_id: (
            "This National Insurance number is also on PO number "
            f"{_other_po_numbers(rows, row_id)}; every such row is rejected."
        ),
    )
    issues += _issues(
        batch,
        groups["email"],
        "email.duplicate",
        "Email Address",
        lambda _, rows, row_id: (
            f"This email is also on PO number {_other_po_numbers(rows, row_id)} "
            "with a different National Insurance number."
        ),
    )
    RowIssue.objects.bulk_create(issues, batch_size=_INSERT_BATCH)
    StagedRow.objects.filter(id__in={issue.row_id for issue in issues}).update(
        status=RowStatus.REJECTED,
        action="",
        matched_participant=None,
        planned_username="",
        data_hash="",
        source_hash="",
    )
    return len(issues)


_KEYS = ("po_number", "nino", "email")

Group = list[tuple[int, str, str]]  # row, PO number, NINO


def _rows_sharing(batch: ImportBatch) -> dict[str, dict[str, Group]]:
    """Per key, the rows of each value shared within the batch, in the file's order.

    A PO number or NINO is shared when two rows hold it, an email when rows
    holding it have different NINOs. An empty value is never shared.
    """
    shared = _shared_values(batch)
    groups: dict[str, dict[str, Group]] = {key: defaultdict(list) for key in _KEYS}
    if not any(shared.values()):
        return groups
    conditions, params = [], []
    for key, values in shared.items():
        if values:
            found, found_params = bulk.values_table("k", [("v", "text")], [sorted(values)])
            conditions.append(f"s.{bulk.column(StagedRow, key)} IN (SELECT k.v FROM {found})")
            params += found_params
    rows = bulk.fetch(
        f"SELECT s.id, {', '.join(f's.{bulk.column(StagedRow, key)}' for key in _KEYS)} "
        f"FROM {bulk.table(StagedRow)} s WHERE s.{bulk.column(StagedRow, 'batch')} = %s "
        f"AND ({' OR '.join(conditions)}) ORDER BY s.id",
        [batch.pk, *params],
    )
    for row_id, po_number, nino, email in rows:
        for key, value in zip(_KEYS, (po_number, nino, email), strict=True):
            if value in shared[key]:
                groups[key][value].append((row_id, po_number, nino))
    return groups


def _shared_values(batch: ImportBatch) -> dict[str, set[str]]:
    """The shared values of each key, one grouped query a key in one statement."""
    s = bulk.table(StagedRow)
    po_number, nino, email = (bulk.column(StagedRow, key) for key in _KEYS)
    of_batch = f"FROM {s} s WHERE s.{bulk.column(StagedRow, 'batch')} = %s"
    sql = " UNION ALL ".join(
        f"SELECT '{key}', s.{column} {of_batch} AND s.{column} <> '' "
        f"GROUP BY s.{column} HAVING {having}"
        for key, column, having in (
            ("po_number", po_number, "COUNT(*) > 1"),
            ("nino", nino, "COUNT(*) > 1"),
            ("email", email, f"MIN(s.{nino}) <> MAX(s.{nino})"),
        )
    )
    shared: dict[str, set[str]] = {key: set() for key in _KEYS}
    for key, value in bulk.fetch(sql, [batch.pk] * 3):
        shared[key].add(value)
    return shared


def _issues(
    batch: ImportBatch,
    groups: dict[str, Group],
    code: str,
    column: str,
    message: Callable[[str, Group, int], str],
) -> list[RowIssue]:
    """An error on every row of every group, its message told the group and the row."""
    return [
        RowIssue(
            batch=batch,
            row_id=row_id,
            severity=RowIssue.Severity.ERROR,
            code=code,
            column=column,
            message=message(value, rows, row_id),
        )
        for value, rows in groups.items()
        for row_id, _, _ in rows
    ]


def _other_po_numbers(rows: Group, row_id: int) -> str:
    others = [po or "(no PO number)" for other_id, po, _ in rows if other_id != row_id]
    return ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
