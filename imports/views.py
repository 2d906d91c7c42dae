"""The import wizard: upload, validation report, commit, summary, exports, history."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from participants import roles
from participants.services import access_log_record
from prap_portal.spreadsheet import csv_lines

from . import selectors, services, tasks
from .forms import ImportForm
from .models import BatchStatus, ImportBatch


def _require_importer(request: HttpRequest) -> None:
    if not roles.can_import(request.user):
        raise PermissionDenied("Importing PRaP files needs the Create users permission.")


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.PRAP_MAX_UPLOAD_BYTES:
            # Refused from the header alone, before the body is read.
            context = {"form": ImportForm(), "refusal": _too_large_message()}
            return render(request, "imports/upload.html", context, status=413)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            batch = services.batch_create(
                uploaded_by=request.user,
                upload=form.cleaned_data["bundle"],
                update_by_nino=form.cleaned_data["update_by_nino"],
                update_by_email=form.cleaned_data["update_by_email"],
                create_new=form.cleaned_data["create_new"],
            )
            transaction.on_commit(lambda: tasks.validate_batch.delay(batch.pk))
            return redirect("imports-batch", pk=batch.pk)
    else:
        form = ImportForm()
    return render(request, "imports/upload.html", {"form": form})


def _too_large_message() -> str:
    limit = filesizeformat(settings.PRAP_MAX_UPLOAD_BYTES)
    return (
        f"The file is larger than {limit}, the most one upload may be. Split it into smaller zips."
    )


@login_required
@require_GET
def batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for(request.user, pk)
    only_rejected = request.GET.get("show") == "rejected"
    context = {
        "batch": batch,
        "only_rejected": only_rejected,
        "BatchStatus": BatchStatus,
    }
    if batch.status in (
        BatchStatus.VALIDATED,
        BatchStatus.IMPORTED,
        BatchStatus.FAILED,
        BatchStatus.IMPORTING,
    ):
        context["page"] = selectors.batch_rows_page(
            batch, only_rejected=only_rejected, page=request.GET.get("page")
        )
        context["issue_counts"] = selectors.batch_issue_counts(batch)
        context["files"] = list(batch.files.all())
    return render(request, "imports/batch.html", context)


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> JsonResponse:
    batch = selectors.batch_for(request.user, pk)
    return JsonResponse(_progress_state(batch))


def _progress_state(batch: ImportBatch) -> dict[str, object]:
    elapsed = (
        (timezone.now() - batch.phase_started_at).total_seconds() if batch.phase_started_at else 0
    )
    remaining = None
    if batch.progress_done and batch.progress_total > batch.progress_done:
        remaining = elapsed / batch.progress_done * (batch.progress_total - batch.progress_done)
    text = f"{batch.phase}: {batch.progress_done:,} of {batch.progress_total:,} rows"
    if remaining is not None:
        text += f", about {int(remaining) + 1} s left"
    return {
        "status": batch.status,
        "phase": batch.phase,
        "done": batch.progress_done,
        "total": batch.progress_total,
        "percent": batch.progress_percent,
        "elapsed_seconds": round(elapsed, 1),
        "remaining_seconds": None if remaining is None else round(remaining, 1),
        "busy": batch.is_busy,
        "text": text,
    }


@login_required
@require_POST
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for(request.user, pk)
    try:
        batch = services.batch_claim_commit(batch=batch, user=request.user)
    except services.CommitRefused as refusal:
        messages.info(request, refusal.message)
        return redirect("imports-batch", pk=batch.pk)
    transaction.on_commit(lambda: tasks.commit_batch.delay(batch.pk))
    return redirect("imports-batch", pk=batch.pk)


@login_required
@require_GET
def errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    batch = selectors.batch_for(request.user, pk)
    return _logged_csv(
        request, batch, "export_errors", "errors", selectors.ERROR_HEADER,
        selectors.batch_error_lines(batch),
    )  # fmt: skip


@login_required
@require_GET
def successes_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    batch = selectors.batch_for(request.user, pk)
    return _logged_csv(
        request, batch, "export_successes", "imported", selectors.SUCCESS_HEADER,
        selectors.batch_success_lines(batch),
    )  # fmt: skip


def _logged_csv(
    request: HttpRequest,
    batch: ImportBatch,
    action: str,
    suffix: str,
    header: tuple[str, ...],
    lines: Iterable[Iterable[object]],
) -> StreamingHttpResponse:
    """A batch's CSV download, recorded in the access log."""
    access_log_record(
        user=request.user, participant=None, action=action, detail=f"Import batch {batch.pk}"
    )
    response = StreamingHttpResponse(
        csv_lines(header, lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="prap-import-{batch.pk}-{suffix}.csv"'
    return response


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    page = Paginator(selectors.batches_for(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "imports/history.html", {"page": page})
