"""Bulk test data: many people with applied PRaP data, made in a few queries."""

from __future__ import annotations

import datetime
import uuid

from imports.models import BatchStatus, ImportBatch
from participants.models import Kind, Participant, PrapVersion, User, VersionStatus

PROGRAMMES = ("Restart Scheme", "Work and Health Programme", "Pioneer")


def nino_for(i: int) -> str:
    return f"QQ{i:06d}C"


def bulk_participants(
    count: int, *, batch: ImportBatch | None = None, start: int = 0
) -> list[Participant]:
    """``count`` prospects, each with version 1 applied.

    Person ``i`` is on ``PROGRAMMES[i % 3]``, referred on day ``i % 28 + 1`` of
    month ``i % 12 + 1`` of 2024, in ``Town {i % 10}``.
    """
    users = User.objects.bulk_create(
        [
            User(
                username=str(uuid.uuid4()),
                first_name=f"First{i}",
                last_name=f"Last{i:06d}",
                kind=Kind.PROSPECT,
                password="!",
            )
            for i in range(start, start + count)
        ],
        batch_size=2000,
    )
    people = Participant.objects.bulk_create(
        [
            Participant(
                user=user,
                nino=nino_for(i),
                programme=PROGRAMMES[i % 3],
                po_number=f"PO{i:06d}",
            )
            for i, user in zip(range(start, start + count), users, strict=True)
        ],
        batch_size=2000,
    )
    PrapVersion.objects.bulk_create(
        [
            PrapVersion(
                participant=person,
                number=1,
                status=VersionStatus.APPLIED,
                batch=batch,
                first_name=f"First{i}",
                last_name=f"Last{i:06d}",
                nino=nino_for(i),
                po_number=f"PO{i:06d}",
                programme=PROGRAMMES[i % 3],
                contract=f"CPA {i % 4}",
                town=f"Town {i % 10}",
                referral_date=datetime.date(2024, i % 12 + 1, i % 28 + 1),
                disability_status=(None, True, False)[i % 3],
            )
            for i, person in zip(range(start, start + count), people, strict=True)
        ],
        batch_size=2000,
    )
    return people


def make_batch(user: User, **fields: object) -> ImportBatch:
    values: dict[str, object] = {
        "uploaded_by": user,
        "file_name": "referrals.zip",
        "status": BatchStatus.IMPORTED,
        "total_rows": 3,
        "accepted_count": 2,
        "rejected_count": 1,
        "created_count": 2,
        **fields,
    }
    return ImportBatch.objects.create(**values)
