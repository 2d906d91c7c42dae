"""Background work of the import wizard. Inline when no broker is configured."""

from celery import shared_task

from .models import ImportBatch
from .services import batch_commit, batch_validate


@shared_task(acks_late=True)
def validate_batch(batch_id: int) -> None:
    batch_validate(batch=ImportBatch.objects.get(pk=batch_id))


@shared_task(acks_late=True)
def commit_batch(batch_id: int) -> None:
    batch_commit(batch=ImportBatch.objects.get(pk=batch_id))
