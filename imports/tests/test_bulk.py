"""Bulk writes keep every value as it was: text COPY's escapes, NULLs, dates and flags."""

from __future__ import annotations

import datetime

import pytest

from imports.models import BatchFile, ImportBatch, RowStatus, StagedRow
from imports.pipeline import bulk
from imports.pipeline.columns import DATE_FIELDS, FLAG_FIELDS
from imports.pipeline.staging import STAGED_FIELDS
from participants.models import PrapData, User

pytestmark = pytest.mark.django_db

AWKWARD_TEXTS = [
    "plain",
    "",
    "back\\slash and \\N",
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    'quote " and comma, too',
    "Siân Ó'Brien \u2013 £5",
]


@pytest.fixture
def batch_file() -> BatchFile:
    user = User.objects.create_user(username="loader")
    batch = ImportBatch.objects.create(uploaded_by=user, file_name="bundle.zip")
    return BatchFile.objects.create(batch=batch, path="referrals.csv")


def _columns(batch_file: BatchFile, count: int, **overrides: list[object]) -> dict[str, list]:
    ids = bulk.allocate_ids(StagedRow, count)
    columns: dict[str, list] = {
        "id": ids,
        "batch": [batch_file.batch_id] * count,
        "file": [batch_file.pk] * count,
        "line": list(range(2, count + 2)),
        "status": [RowStatus.ACCEPTED] * count,
        "action": [""] * count,
        "matched_participant": [None] * count,
        "planned_username": [""] * count,
        **{
            field: [None if field in DATE_FIELDS or field in FLAG_FIELDS else ""] * count
            for field in PrapData.DATA_FIELDS
        },
        "extra": ["{}"] * count,
        "data_hash": [""] * count,
        "source_hash": [""] * count,
    }
    columns.update(overrides)
    return columns


def test_text_with_copy_escapes_and_delimiters_arrives_unchanged(batch_file):
    count = len(AWKWARD_TEXTS)
    notes = list(reversed(AWKWARD_TEXTS))
    bulk.insert_columns(
        StagedRow,
        _columns(batch_file, count, first_name=AWKWARD_TEXTS, notes=notes),
    )
    stored = list(StagedRow.objects.order_by("line").values_list("first_name", "notes"))
    assert stored == list(zip(AWKWARD_TEXTS, notes, strict=True))


def test_dates_flags_numbers_and_nulls_arrive_as_given(batch_file):
    days = [datetime.date(1990, 6, 15), None, datetime.date(2024, 2, 29)]
    flags = [True, False, None]
    bulk.insert_columns(
        StagedRow,
        _columns(
            batch_file,
            3,
            date_of_birth=days,
            disability_status=flags,
            extra=['{"Key Worker": "Tab\\there"}', "{}", '{"Note": "back\\\\slash"}'],
        ),
    )
    stored = list(
        StagedRow.objects.order_by("line").values_list(
            "date_of_birth", "disability_status", "matched_participant", "extra"
        )
    )
    assert stored == [
        (days[0], True, None, {"Key Worker": "Tab\there"}),
        (None, False, None, {}),
        (days[2], None, None, {"Note": "back\\slash"}),
    ]


def test_rows_given_as_tuples_are_inserted_like_columns(batch_file):
    columns = _columns(batch_file, 2, first_name=["tab\there", ""], status=["accepted", "rejected"])
    bulk.insert_rows(
        StagedRow, STAGED_FIELDS, zip(*(columns[f] for f in STAGED_FIELDS), strict=True)
    )
    bulk.insert_rows(StagedRow, STAGED_FIELDS, [])
    assert list(StagedRow.objects.order_by("line").values_list("first_name", "status")) == [
        ("tab\there", "accepted"),
        ("", "rejected"),
    ]
