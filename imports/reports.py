"""The validation report of a batch as plain data (the CLI's --report-json)."""

from __future__ import annotations

from collections import defaultdict

from .models import ImportBatch, RowIssue, StagedRow


def batch_report(batch: ImportBatch) -> dict[str, object]:
    """The report in the shape documented in the README, streamed from the database."""
    issues: dict[int, dict[str, list[dict[str, str]]]] = defaultdict(
        lambda: {"errors": [], "warnings": []}
    )
    for row_id, severity, code, column, message in (
        RowIssue.objects.filter(batch=batch)
        .order_by("id")
        .values_list("row_id", "severity", "code", "column", "message")
    ):
        key = "errors" if severity == RowIssue.Severity.ERROR else "warnings"
        entry = {"code": code, "column": column, "message": message}
        issues[row_id][key].append(entry)
    rows = []
    for row_id, path, line, po_number, status, action in (
        StagedRow.objects.filter(batch=batch)
        .order_by("id")
        .values_list("id", "file__path", "line", "po_number", "status", "action")
        .iterator(chunk_size=5000)
    ):
        found = issues.get(row_id, {"errors": [], "warnings": []})
        rows.append(
            {
                "file": path,
                "line": line,
                "po_number": po_number or None,
                "status": status,
                "action": action or None,
                "errors": found["errors"],
                "warnings": found["warnings"],
            }
        )
    return {
        "archive_errors": [
            {"code": e["code"], "message": e["message"]} for e in batch.archive_errors
        ],
        "skipped": batch.skipped_entries,
        "files": [
            {
                "path": f.path,
                "rows": f.row_count,
                "warnings": f.warnings,
                "errors": f.errors,
            }
            for f in batch.files.all()
        ],
        "accepted": batch.accepted_count,
        "rejected": batch.rejected_count,
        "rows": rows,
    }
