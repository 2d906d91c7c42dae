"""Writes of the import wizard: create a batch, validate it, commit it.

The web views, the Celery tasks and the ``import_prap`` command all call these.
A batch's state lives in the database, so any web process or worker can
report on it and a batch left behind by a dead worker can be run again.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connections, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from participants.models import Participant, PrapVersion, User

from .models import BatchFile, BatchStatus, ImportBatch, RowStatus, StagedRow
from .pipeline import bulk
from .pipeline.archive import ArchiveLimits, ArchiveRefused, Bundle
from .pipeline.bundle_checks import flag_duplicates
from .pipeline.commit import commit_rows
from .pipeline.csvfile import FileRejected, open_csv
from .pipeline.matching import MatchOptions
from .pipeline.staging import stage_file

logger = logging.getLogger(__name__)

# A second connection (PostgreSQL only) on which progress is written while the
# commit's own transaction is still open.
PROGRESS_DATABASE = "progress"

# A commit that hits a unique constraint (another import created the same
# person at the same moment) is run again: the re-check then sees the winner.
_COMMIT_ATTEMPTS = 3


class CommitRefused(Exception):
    """The batch cannot be committed now; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def archive_limits() -> ArchiveLimits:
    return ArchiveLimits(
        max_upload_bytes=settings.PRAP_MAX_UPLOAD_BYTES,
        max_uncompressed_bytes=settings.PRAP_MAX_UNCOMPRESSED_BYTES,
        max_entries=settings.PRAP_MAX_ENTRIES,
        max_ratio=settings.PRAP_MAX_COMPRESSION_RATIO,
    )


def batch_create(
    *,
    uploaded_by: User,
    upload: UploadedFile,
    update_by_nino: bool,
    update_by_email: bool,
    create_new: bool,
) -> ImportBatch:
    """Store an uploaded bundle as a new queued batch."""
    batch = ImportBatch(
        uploaded_by=uploaded_by,
        file_name=(upload.name or "bundle.zip")[:255],
        file_size=upload.size or 0,
        update_by_nino=update_by_nino,
        update_by_email=update_by_email,
        create_new=create_new,
        status=BatchStatus.QUEUED,
        phase="Waiting to start",
    )
    batch.bundle.save("bundle.zip", upload, save=False)
    batch.save()
    return batch


def batch_validate(*, batch: ImportBatch) -> ImportBatch:
    """Read the bundle, stage every row with its issues and decide each row's action.

    Running it again on the same batch starts from scratch. An archive that is
    refused leaves the batch ``refused`` with nothing staged.
    """
    if not batch.bundle:
        # A refused upload is not kept, and retention removes old ones.
        if batch.status != BatchStatus.REFUSED:
            _fail(batch, "The uploaded file is no longer stored. Upload it again.")
        return batch
    _set_progress(
        batch, status=BatchStatus.VALIDATING, phase="Checking the archive", done=0, total=0
    )
    bulk.delete_staged(batch.pk)
    try:
        with Bundle.open(batch.bundle.path, limits=archive_limits()) as bundle:
            _stage_bundle(batch, bundle)
    except ArchiveRefused as refusal:
        bulk.delete_staged(batch.pk)
        batch.archive_errors = [{"code": refusal.code, "message": refusal.message}]
        # Nothing of a refused upload is kept.
        batch.bundle.delete(save=False)
        batch.status = BatchStatus.REFUSED
        batch.phase = "Refused"
        batch.validated_at = timezone.now()
        batch.save()
        return batch
    except Exception as error:  # any fault must leave a retryable batch
        logger.error("Validation of batch %s failed: %s", batch.pk, _where_it_failed(error))
        _fail(batch, f"Validation stopped unexpectedly ({type(error).__name__}). Try again.")
        raise

    _set_progress(
        batch,
        phase="Checking for duplicates",
        done=batch.progress_total,
        total=batch.progress_total,
    )
    bulk.refresh_statistics(StagedRow, "batch", "status", "po_number", "nino", "email")
    flag_duplicates(batch=batch)
    _count_rows(batch)
    batch.status = BatchStatus.VALIDATED
    batch.phase = "Validated"
    batch.validated_at = timezone.now()
    batch.save()
    return batch


def _stage_bundle(batch: ImportBatch, bundle: Bundle) -> None:
    batch.skipped_entries = [{"path": s.path, "reason": s.reason} for s in bundle.skipped]
    batch.save(update_fields=["skipped_entries"])
    total = sum(_estimate_rows(bundle, path) for path in bundle.csv_paths)
    _set_progress(batch, phase="Validating rows", done=0, total=total)
    today = timezone.localdate()
    options = MatchOptions(batch.update_by_nino, batch.update_by_email, batch.create_new)
    for path in bundle.csv_paths:
        batch_file = BatchFile.objects.create(batch=batch, path=path)
        _stage_one_file(batch, bundle, batch_file, options, today)


def _stage_one_file(
    batch: ImportBatch,
    bundle: Bundle,
    batch_file: BatchFile,
    options: MatchOptions,
    today: datetime.date,
) -> None:
    def advance(rows: int) -> None:
        _set_progress(batch, done=batch.progress_done + rows)

    try:
        csv_file = open_csv(
            lambda: bundle.open_csv(batch_file.path), max_rows=settings.PRAP_MAX_ROWS_PER_FILE
        )
        batch_file.encoding = csv_file.encoding
        batch_file.delimiter = csv_file.delimiter
        batch_file.warnings = [
            {"code": code, "message": message} for code, message in csv_file.warnings
        ]
        batch_file.row_count = stage_file(
            batch=batch,
            batch_file=batch_file,
            csv_file=csv_file,
            options=options,
            today=today,
            chunk_rows=settings.PRAP_CHUNK_ROWS,
            on_rows=advance,
        )
    except FileRejected as rejection:
        # The whole file is rejected: nothing of it stays staged. Its rows count as
        # rejected; where it could not be parsed, its line breaks stand in for rows.
        staged = StagedRow.objects.filter(batch=batch, file=batch_file)
        batch_file.row_count = staged.count() or max(_estimate_rows(bundle, batch_file.path) - 1, 0)
        staged.delete()
        batch_file.rejected = True
        batch_file.errors = [{"code": rejection.code, "message": rejection.message}]
    batch_file.save()


def _estimate_rows(bundle: Bundle, path: str) -> int:
    """Line breaks in the entry: a cheap upper bound on its records, for progress."""
    newlines = returns = 0
    with bundle.open_csv(path) as stream:
        while block := stream.read(1 << 20):
            newlines += block.count(b"\n")
            returns += block.count(b"\r")
    return max(newlines, returns, 1)


def _count_rows(batch: ImportBatch) -> None:
    rows = StagedRow.objects.filter(batch=batch)
    accepted = rows.filter(status=RowStatus.ACCEPTED).count()
    staged = rows.count()
    in_rejected_files = batch.files.filter(rejected=True).aggregate(n=Sum("row_count"))["n"] or 0
    batch.accepted_count = accepted
    batch.rejected_count = staged - accepted + in_rejected_files
    batch.total_rows = staged + in_rejected_files


def batch_claim_commit(*, batch: ImportBatch, user: User) -> ImportBatch:
    """Mark a validated batch as importing, once: a second claim is refused.

    The claim is one conditional UPDATE, so two requests racing for the same
    batch cannot both win. A batch ``importing`` whose heartbeat stopped for
    longer than the stale-lock timeout (its worker died) may be claimed again.
    """
    stale = timezone.now() - datetime.timedelta(seconds=settings.PRAP_STALE_LOCK_SECONDS)
    claimable = Q(
        status__in=[BatchStatus.VALIDATED, BatchStatus.FAILED], validated_at__isnull=False
    ) | Q(status=BatchStatus.IMPORTING, heartbeat_at__lt=stale)
    claimed = (
        ImportBatch.objects.filter(claimable, pk=batch.pk)
        .exclude(committed_at__isnull=False)
        .update(
            status=BatchStatus.IMPORTING,
            phase="Waiting to import",
            progress_done=0,
            progress_total=batch.accepted_count,
            phase_started_at=timezone.now(),
            heartbeat_at=timezone.now(),
            committed_by=user,
            failure_reason="",
        )
    )
    batch.refresh_from_db()
    if not claimed:
        if batch.status == BatchStatus.IMPORTED:
            raise CommitRefused("This batch has already been imported.")
        if batch.status == BatchStatus.IMPORTING:
            raise CommitRefused("This batch is already being imported.")
        raise CommitRefused("This batch cannot be imported: it has not been validated.")
    return batch


def batch_commit(*, batch: ImportBatch) -> ImportBatch:
    """Import the accepted rows of a claimed batch in one transaction, or none.

    On failure the batch is marked ``failed`` with the reason and can be claimed
    and committed again.
    """
    if batch.status != BatchStatus.IMPORTING or batch.committed_at is not None:
        raise CommitRefused("This batch has not been claimed for import.")
    _set_progress(batch, phase="Importing records", done=0, total=batch.accepted_count)
    for attempt in range(1, _COMMIT_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                # The claim made this the only commit of the batch. No row lock on
                # the batch here: progress is written to it from another connection.
                counts = commit_rows(
                    batch=batch,
                    chunk_rows=settings.PRAP_CHUNK_ROWS,
                    on_rows=_progress_outside_transaction(batch),
                )
                batch.created_count = counts.created
                batch.updated_count = counts.applied + counts.pending
                batch.pending_count = counts.pending
                batch.unchanged_count = counts.unchanged
                batch.conflict_count = counts.conflicts
                batch.status = BatchStatus.IMPORTED
                batch.phase = "Imported"
                batch.committed_at = timezone.now()
                batch.progress_done = batch.progress_total
                batch.save()
            # The tables just grew in bulk; let later queries plan with that known.
            # Every column: the look-ups by email need the statistics of their
            # index expressions, and reports filter people on any PRaP field.
            for model in (User, Participant, PrapVersion):
                bulk.refresh_statistics(model)
            return batch
        except (IntegrityError, OperationalError) as error:
            if isinstance(error, OperationalError) and not _is_deadlock(error):
                _fail_unexpectedly(batch, error)
                raise
            # Another import created the same people at the same moment; the
            # transaction rolled back whole, and the re-check now sees the winner.
            logger.warning(
                "Commit of batch %s met a concurrent import (attempt %s)", batch.pk, attempt
            )
            if attempt == _COMMIT_ATTEMPTS:
                _fail(batch, "Another import created the same people at the same time. Try again.")
                raise CommitRefused(batch.failure_reason) from None
        except CommitRefused:
            raise
        except Exception as error:
            _fail_unexpectedly(batch, error)
            raise
    return batch


def _where_it_failed(error: Exception) -> str:
    """The kind of error and where it happened, without its text.

    A database error's text can quote a row of personal data; the frames of the
    traceback can't, so they are logged and the message is not.
    """
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"{type(error).__name__}\n{frames}"


def _is_deadlock(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) in ("40P01", "40001")


def _fail_unexpectedly(batch: ImportBatch, error: Exception) -> None:
    logger.error("Commit of batch %s failed: %s", batch.pk, _where_it_failed(error))
    _fail(
        batch,
        f"The import stopped unexpectedly ({type(error).__name__}); nothing was written. Try again.",
    )


def _progress_outside_transaction(batch: ImportBatch) -> Callable[[int], None]:
    """Progress from inside the commit transaction, written through a second connection.

    Other requests can't see writes of an open transaction; the progress bar must.
    """
    alias = PROGRESS_DATABASE if PROGRESS_DATABASE in connections.databases else None

    def advance(rows: int) -> None:
        batch.progress_done += rows
        if alias is None:
            return
        try:
            ImportBatch.objects.using(alias).filter(pk=batch.pk).update(
                progress_done=batch.progress_done, heartbeat_at=timezone.now()
            )
        except Exception:  # noqa: BLE001 - progress is best effort; the import goes on
            logger.debug("Progress of batch %s not written", batch.pk)

    return advance


def _set_progress(
    batch: ImportBatch,
    *,
    status: str | None = None,
    phase: str | None = None,
    done: int | None = None,
    total: int | None = None,
) -> None:
    changes: dict[str, object] = {}
    if status is not None:
        batch.status = changes["status"] = status
    if phase is not None:
        batch.phase = changes["phase"] = phase
        batch.phase_started_at = changes["phase_started_at"] = timezone.now()
    if done is not None:
        batch.progress_done = changes["progress_done"] = done
    if total is not None:
        batch.progress_total = changes["progress_total"] = total
    batch.heartbeat_at = changes["heartbeat_at"] = timezone.now()
    ImportBatch.objects.filter(pk=batch.pk).update(**changes)


def _fail(batch: ImportBatch, reason: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED, phase="Failed", failure_reason=reason
    )
    batch.refresh_from_db()
