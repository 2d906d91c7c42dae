"""Retention: old batches lose their bundle and staged rows and keep their summary."""

from __future__ import annotations

import datetime
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from imports.models import BatchFile, BatchStatus, ImportBatch, RowIssue, StagedRow
from imports.retention import batches_purge

from .bundles import bundle_of, row


def aged(batch: ImportBatch, days: float) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    batch.refresh_from_db()
    return batch


def test_it_deletes_the_bundle_and_staged_rows_of_old_batches_and_keeps_the_summary(
    validate, commit
):
    old = commit(validate(bundle_of(row(1), row(2), row(3, Last_Name=""))))
    path = old.bundle.path
    assert os.path.exists(path)
    old = aged(old, 31)
    recent = aged(validate(bundle_of(row(4), row(5, Last_Name=""))), 29)

    assert batches_purge(older_than=datetime.timedelta(days=30)) == 1

    old.refresh_from_db()
    assert old.purged_at is not None
    assert old.bundle.name == ""
    assert not os.path.exists(path)
    assert not StagedRow.objects.filter(batch=old).exists()
    assert not RowIssue.objects.filter(batch=old).exists()
    assert not BatchFile.objects.filter(batch=old).exists()
    assert (
        old.status,
        old.total_rows,
        old.accepted_count,
        old.rejected_count,
        old.created_count,
    ) == (
        BatchStatus.IMPORTED,
        3,
        2,
        1,
        2,
    )
    assert (old.file_name, old.uploaded_by.username) == ("bundle.zip", "ivy")
    # The recent batch is untouched.
    recent.refresh_from_db()
    assert recent.purged_at is None and os.path.exists(recent.bundle.path)
    assert StagedRow.objects.filter(batch=recent).count() == 2
    assert RowIssue.objects.filter(batch=recent).count() == 1


def test_people_imported_from_a_purged_batch_stay(validate, commit):
    from participants.models import Participant, PrapVersion

    batch = aged(commit(validate(bundle_of(row(1)))), 40)
    batches_purge(older_than=datetime.timedelta(days=30))
    assert Participant.objects.filter(nino="QQ000001C").exists()
    assert PrapVersion.objects.get(participant__nino="QQ000001C").batch_id == batch.pk


def test_a_purge_run_again_purges_nothing_more(validate):
    aged(validate(bundle_of(row(1))), 31)
    assert batches_purge(older_than=datetime.timedelta(days=30)) == 1
    assert batches_purge(older_than=datetime.timedelta(days=30)) == 0


def test_a_batch_still_being_worked_on_is_never_purged(validate):
    batch = aged(validate(bundle_of(row(1))), 90)
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.IMPORTING)
    assert batches_purge(older_than=datetime.timedelta(days=30)) == 0
    assert StagedRow.objects.filter(batch=batch).exists()


def test_it_takes_now_and_the_age_as_given(validate):
    batch = validate(bundle_of(row(1)))
    later = timezone.now() + datetime.timedelta(days=8)
    assert batches_purge(older_than=datetime.timedelta(days=7), now=later) == 1
    batch.refresh_from_db()
    assert batch.purged_at is not None


def test_a_refused_batch_keeps_no_upload_and_purging_keeps_its_summary(validate):
    batch = validate(b"not a zip at all")
    assert not batch.bundle
    aged(batch, 31)
    assert batches_purge(older_than=datetime.timedelta(days=30)) == 1
    batch.refresh_from_db()
    assert batch.archive_errors[0]["code"] == "archive.not_zip"


def test_the_command_uses_the_configured_age(validate, settings):
    settings.PRAP_RETENTION_DAYS = 10
    old = aged(validate(bundle_of(row(1))), 11)
    young = aged(validate(bundle_of(row(2))), 9)
    out = StringIO()
    call_command("purge_batches", stdout=out)
    assert out.getvalue() == "Purged 1 import batch older than 10 days.\n"
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.purged_at is not None, young.purged_at is None) == (True, True)
    out = StringIO()
    call_command("purge_batches", "--days", "5", stdout=out)
    assert out.getvalue() == "Purged 1 import batch older than 5 days.\n"


def test_the_command_refuses_an_age_below_one_day(db):
    with pytest.raises(CommandError, match=r"^--days must be at least 1\.$"):
        call_command("purge_batches", "--days", "0")
