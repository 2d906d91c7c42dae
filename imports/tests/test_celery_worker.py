"""One import end to end through a real Celery worker and Redis (PostgreSQL only)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from imports.models import BatchStatus, ImportBatch
from participants.models import Participant
from prap_portal.celery import app

from .bundles import bundle_of, row, upload

BROKER = os.environ.get("CELERY_TEST_BROKER_URL", "")

pytestmark = [
    pytest.mark.celery,
    pytest.mark.skipif(not BROKER, reason="CELERY_TEST_BROKER_URL is not set"),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the worker needs a database it can share with the test",
    ),
]


@pytest.fixture
def worker(transactional_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    db = settings.DATABASES["default"]
    media = settings.MEDIA_ROOT
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "MEDIA_ROOT": str(media),
    }
    app.conf.update(task_always_eager=False, broker_url=BROKER)
    _drop_broker_connections()
    app.connection_for_write().default_channel.client.flushdb()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "prap_portal",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        app.conf.update(task_always_eager=True)
        _drop_broker_connections()


def _drop_broker_connections() -> None:
    # The app keeps pooled connections to the broker it first used; the test
    # changes the broker, so drop them and let the next send connect afresh.
    app.close()
    app.amqp._producer_pool = None


def wait_for(batch_id: int, status: str, timeout: float = 60) -> ImportBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status == status:
            return batch
        assert batch.status not in (BatchStatus.FAILED, BatchStatus.REFUSED), batch.failure_reason
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} did not become {status}; it is {batch.status}")


def test_a_worker_validates_and_imports_a_bundle(worker: None, importer) -> None:
    client = Client()
    client.login(username=importer.username, password=PASSWORD)
    client.post(
        reverse("imports-upload"), {"bundle": upload(bundle_of(row(1), row(2))), "create_new": "on"}
    )
    batch = ImportBatch.objects.get()
    assert batch.status in (BatchStatus.QUEUED, BatchStatus.VALIDATING, BatchStatus.VALIDATED)
    wait_for(batch.pk, BatchStatus.VALIDATED)
    client.post(reverse("imports-commit", args=[batch.pk]))
    batch = wait_for(batch.pk, BatchStatus.IMPORTED)
    assert batch.created_count == 2
    assert Participant.objects.count() == 2
