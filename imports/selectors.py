"""Reads of the import wizard: batches a user may see, report pages and exports."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from participants import roles
from participants.models import User

from .models import ImportBatch, RowIssue, RowOutcome, RowResult, RowStatus, StagedRow

REPORT_PAGE_SIZE = 50
ERROR_HEADER = ("PO Number", "File", "Line", "Column", "Code", "Error")
SUCCESS_HEADER = ("PO Number", "Action", "Username", "First Name", "Last Name", "Email", "NINO")
SUCCESS_RESULTS = (RowResult.CREATED, RowResult.APPLIED, RowResult.PENDING, RowResult.UNCHANGED)


def batches_for(user: User) -> QuerySet[ImportBatch]:
    """Batches the user may open: every batch for an importer, none for anyone else."""
    if not roles.can_import(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.select_related("uploaded_by")


def batch_for(user: User, pk: int) -> ImportBatch:
    """The batch, or 404 whether it does not exist or the user may not see it."""
    try:
        return batches_for(user).get(pk=pk)
    except ImportBatch.DoesNotExist:
        raise Http404("No such import batch.") from None


def batch_rows_page(batch: ImportBatch, *, only_rejected: bool, page: str | int | None) -> Page:
    """One page of the validation report: rows with their file and issues, three queries."""
    rows = (
        StagedRow.objects.filter(batch=batch)
        .select_related("file", "outcome")
        .only(
            "id",
            "line",
            "status",
            "action",
            "outcome__result",
            "po_number",
            "first_name",
            "last_name",
            "file__path",
        )
        .prefetch_related(Prefetch("issues", queryset=RowIssue.objects.order_by("id")))
        .order_by("id")
    )
    if only_rejected:
        rows = rows.filter(status=RowStatus.REJECTED)
    return Paginator(rows, REPORT_PAGE_SIZE).get_page(page)


def batch_issue_counts(batch: ImportBatch) -> list[dict[str, object]]:
    """How many rows carry each error and warning code, most frequent first."""
    return list(
        RowIssue.objects.filter(batch=batch)
        .values("severity", "code")
        .annotate(count=Count("id"))
        .order_by("severity", "-count", "code")
    )


def batch_error_lines(batch: ImportBatch) -> Iterator[list[object]]:
    """Every error of the batch as PO Number, File, Line, Column, Code, Error."""
    for error in batch.archive_errors:
        yield ["", "", "", "", error["code"], error["message"]]
    for batch_file in batch.files.filter(rejected=True):
        for error in batch_file.errors:
            yield ["", batch_file.path, "", "", error["code"], error["message"]]
    issues = (
        RowIssue.objects.filter(batch=batch, severity=RowIssue.Severity.ERROR)
        .order_by("row_id", "id")
        .values_list("row__po_number", "row__file__path", "row__line", "column", "code", "message")
    )
    for values in issues.iterator(chunk_size=5000):
        yield list(values)


def batch_success_lines(batch: ImportBatch) -> Iterator[list[object]]:
    """Every imported row as PO Number, Action, Username, First Name, Last Name, Email, NINO."""
    rows = (
        RowOutcome.objects.filter(batch=batch, result__in=SUCCESS_RESULTS)
        .order_by("row_id")
        .values_list(
            "row__po_number",
            "result",
            "username",
            "row__first_name",
            "row__last_name",
            "row__email",
            "row__nino",
        )
    )
    labels = dict(RowResult.choices)
    for po_number, result, username, first, last, email, nino in rows.iterator(chunk_size=5000):
        yield [po_number, labels[result], username, first, last, email, nino]
