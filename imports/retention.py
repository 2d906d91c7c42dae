"""Retention: uploaded bundles and staged rows are kept only as long as they are needed.

A batch's summary (who uploaded what, when, the counts and the outcome) stays
for the record; the personal data it carried (the zip, its files, its staged
rows and their issues) is deleted once the batch is older than the retention age.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from .models import BatchStatus, ImportBatch
from .pipeline import bulk

logger = logging.getLogger(__name__)

# A batch still being worked on is never purged, however old.
_BUSY = (BatchStatus.QUEUED, BatchStatus.VALIDATING, BatchStatus.IMPORTING)


def batches_purge(*, older_than: datetime.timedelta, now: datetime.datetime | None = None) -> int:
    """Delete the bundle file, files, staged rows and issues of batches created before
    ``now - older_than``, mark them purged and keep their summary. Returns how many.

    Safe to run again: a purged batch is skipped.
    """
    cutoff = (now or timezone.now()) - older_than
    due = (
        ImportBatch.objects.filter(created_at__lt=cutoff, purged_at__isnull=True)
        .exclude(status__in=_BUSY)
        .order_by("id")
    )
    purged = 0
    for batch_id in due.values_list("id", flat=True).iterator():
        if _purge_one(batch_id):
            purged += 1
    return purged


def _purge_one(batch_id: int) -> bool:
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update()
            .filter(pk=batch_id, purged_at__isnull=True)
            .exclude(status__in=_BUSY)
            .first()
        )
        if batch is None:
            return False
        bulk.delete_staged(batch.pk)
        stored = batch.bundle.name
        batch.bundle = ""
        batch.purged_at = timezone.now()
        batch.save(update_fields=["bundle", "purged_at"])
    # The file goes once the rows are gone for good, so a failed run never leaves a
    # batch that still has rows but no bundle.
    if stored:
        _delete_file(batch, stored)
    logger.info("Purged import batch %s", batch_id)
    return True


def _delete_file(batch: ImportBatch, name: str) -> None:
    storage = batch.bundle.storage
    try:
        storage.delete(name)
    except OSError:
        logger.warning("Could not delete the stored bundle of import batch %s", batch.pk)
