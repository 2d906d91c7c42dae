"""Checks across the whole bundle, run in the database once every row is staged.

Running them as grouped queries over the staged rows keeps memory flat however
large the bundle: only the duplicated keys ever reach Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.db.models import Count

from imports.models import ImportBatch, RowIssue, RowStatus, StagedRow

_INSERT_BATCH = 2000


def flag_duplicates(*, batch: ImportBatch) -> int:
    """Reject every copy of a duplicated PO number or NINO, and emails shared by NINOs.

    Returns how many issues were added.
    """
    issues: list[RowIssue] = []
    issues += _po_number_duplicates(batch)
    issues += _nino_duplicates(batch)
    issues += _email_duplicates(batch)
    RowIssue.objects.bulk_create(issues, batch_size=_INSERT_BATCH)
    StagedRow.objects.filter(id__in={issue.row_id for issue in issues}).update(
        status=RowStatus.REJECTED,
        action="",
        matched_participant=None,
        planned_username="",
        data_hash="",
    )
    return len(issues)


def _rows_sharing(
    batch: ImportBatch, key: str, distinct: str | None = None
) -> dict[str, list[tuple[int, str, str]]]:
    """Rows whose ``key`` value appears more than once (or with several ``distinct`` values).

    The shared values are read first, so the rows are then found by a plain
    list: a grouped subquery can be planned as a nested loop on a table whose
    statistics do not know this batch yet.
    """
    rows = StagedRow.objects.filter(batch=batch).exclude(**{key: ""})
    counted = rows.values(key).annotate(n=Count(distinct or "id", distinct=bool(distinct)))
    shared = list(counted.filter(n__gt=1).values_list(key, flat=True))
    groups: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    if not shared:
        return groups
    found = (
        rows.filter(**{f"{key}__in": shared})
        .order_by("id")
        .values_list("id", key, "po_number", "nino")
    )
    for row_id, value, po_number, nino in found:
        groups[value].append((row_id, po_number, nino))
    return groups


def _po_number_duplicates(batch: ImportBatch) -> list[RowIssue]:
    return _issues(
        batch,
        _rows_sharing(batch, "po_number"),
        "po_number.duplicate",
        "PO Number",
        lambda po_number, rows, row_id: (
            f"PO number {po_number} appears {len(rows)} times in "
            "this bundle; every copy is rejected."
        ),
    )


def _nino_duplicates(batch: ImportBatch) -> list[RowIssue]:
    return _issues(
        batch,
        _rows_sharing(batch, "nino"),
        "nino.duplicate",
        "National Insurance Number",
        lambda _, rows, row_id: (
            "This National Insurance number is also on PO number "
            f"{_other_po_numbers(rows, row_id)}; every such row is rejected."
        ),
    )


def _email_duplicates(batch: ImportBatch) -> list[RowIssue]:
    return _issues(
        batch,
        _rows_sharing(batch, "email", distinct="nino"),
        "email.duplicate",
        "Email Address",
        lambda _, rows, row_id: (
            f"This email is also on PO number {_other_po_numbers(rows, row_id)} "
            "with a different National Insurance number."
        ),
    )


def _issues(
    batch: ImportBatch,
    groups: dict[str, list[tuple[int, str, str]]],
    code: str,
    column: str,
    message: Callable[[str, list[tuple[int, str, str]], int], str],
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


def _other_po_numbers(rows: list[tuple[int, str, str]], row_id: int) -> str:
    others = [po or "(no PO number)" for other_id, po, _ in rows if other_id != row_id]
    return ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
