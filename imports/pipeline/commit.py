"""Commit: the accepted rows of a validated batch become people and PRaP versions.

Runs inside the caller's transaction. Every accepted row is decided again
against the database as it is now; a row whose decision turned into an error
(another import created that person meanwhile, say) is marked as a conflict
and not imported. All writes are bulk inserts and bulk updates per chunk.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db.models import Max
from django.utils import timezone

from imports.models import ImportBatch, RowAction, RowIssue, RowResult, RowStatus, StagedRow
from participants.models import (
    Kind,
    Participant,
    PrapData,
    PrapVersion,
    User,
    VersionEvent,
    VersionStatus,
)

from .matching import Decision, MatchOptions, RowKey, decide

_INSERT_BATCH = 2000
_COPIED_FIELDS = (*PrapData.DATA_FIELDS, "extra", "data_hash")


@dataclass
class CommitCounts:
    created: int = 0
    applied: int = 0
    pending: int = 0
    unchanged: int = 0
    conflicts: int = 0
    results: dict[str, int] = field(default_factory=dict)


def commit_rows(
    *, batch: ImportBatch, chunk_rows: int, on_rows: Callable[[int], None]
) -> CommitCounts:
    """Import every accepted row of ``batch``; the caller holds the transaction."""
    options = MatchOptions(batch.update_by_nino, batch.update_by_email, batch.create_new)
    counts = CommitCounts()
    accepted = (
        StagedRow.objects.filter(batch=batch, status=RowStatus.ACCEPTED)
        .select_related("file")
        .order_by("id")
    )
    last_id = 0
    while True:
        chunk = list(accepted.filter(id__gt=last_id)[:chunk_rows])
        if not chunk:
            break
        last_id = chunk[-1].id
        decisions = decide([RowKey(r.nino, r.email, r.data_hash) for r in chunk], options=options)
        _commit_chunk(batch, chunk, decisions, counts)
        on_rows(len(chunk))
    return counts


def _commit_chunk(
    batch: ImportBatch, rows: list[StagedRow], decisions: list[Decision], counts: CommitCounts
) -> None:
    creates: list[StagedRow] = []
    updates: list[tuple[StagedRow, int]] = []
    conflicts: list[tuple[StagedRow, Decision]] = []
    for row, decision in zip(rows, decisions, strict=True):
        if decision.rejected:
            conflicts.append((row, decision))
        elif decision.action == RowAction.CREATE:
            creates.append(row)
        elif decision.action == RowAction.UPDATE:
            updates.append((row, decision.participant_id))
        else:
            row.result = RowResult.UNCHANGED
            row.matched_participant_id = decision.participant_id
            counts.unchanged += 1

    _create_people(batch, creates)
    counts.created += len(creates)
    applied, pending = _update_people(batch, updates)
    counts.applied += applied
    counts.pending += pending
    for row, decision in conflicts:
        row.result = RowResult.CONFLICT
    counts.conflicts += len(conflicts)
    RowIssue.objects.bulk_create(
        [
            RowIssue(
                batch=batch,
                row=row,
                severity=issue.severity,
                code=issue.code,
                column=issue.column,
                message=f"{issue.message} (found at import)",
            )
            for row, decision in conflicts
            for issue in decision.issues
        ]
    )
    StagedRow.objects.bulk_update(
        rows, ["result", "result_username", "matched_participant"], batch_size=_INSERT_BATCH
    )


def _create_people(batch: ImportBatch, rows: list[StagedRow]) -> None:
    if not rows:
        return
    now = timezone.now()
    # One unusable password shape for all: a prospect logs in only after an invitation.
    unusable = make_password(None)
    users = [
        User(
            username=row.email or str(uuid.uuid4()),
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            kind=Kind.PROSPECT,
            password=unusable,
            date_joined=now,
        )
        for row in rows
    ]
    User.objects.bulk_create(users, batch_size=_INSERT_BATCH)
    participants = [
        Participant(user=user, nino=row.nino, programme=row.programme, po_number=row.po_number)
        for user, row in zip(users, rows, strict=True)
    ]
    Participant.objects.bulk_create(participants, batch_size=_INSERT_BATCH)
    versions = [
        _version(batch, row, participant.id, 1, VersionStatus.APPLIED)
        for participant, row in zip(participants, rows, strict=True)
    ]
    PrapVersion.objects.bulk_create(versions, batch_size=_INSERT_BATCH)
    _record_created(versions)
    for row, user, participant in zip(rows, users, participants, strict=True):
        row.result = RowResult.CREATED
        row.result_username = user.username
        row.matched_participant_id = participant.id


def _update_people(batch: ImportBatch, updates: list[tuple[StagedRow, int]]) -> tuple[int, int]:
    """New versions for matched people: applied when they had none, else pending."""
    if not updates:
        return 0, 0
    ids = [pid for _, pid in updates]
    latest = dict(
        PrapVersion.objects.filter(participant_id__in=ids)
        .values("participant_id")
        .annotate(n=Max("number"))
        .values_list("participant_id", "n")
    )
    participants = Participant.objects.select_related("user").in_bulk(ids)
    versions = []
    first_versions: list[tuple[StagedRow, Participant]] = []
    for row, pid in updates:
        participant = participants[pid]
        number = latest.get(pid, 0) + 1
        status = VersionStatus.APPLIED if number == 1 else VersionStatus.PENDING
        versions.append(_version(batch, row, pid, number, status))
        row.matched_participant_id = pid
        row.result_username = participant.user.username
        row.result = RowResult.APPLIED if status == VersionStatus.APPLIED else RowResult.PENDING
        if status == VersionStatus.APPLIED:
            first_versions.append((row, participant))
    PrapVersion.objects.bulk_create(versions, batch_size=_INSERT_BATCH)
    _record_created(versions)
    _follow_first_versions(first_versions)
    applied = len(first_versions)
    return applied, len(updates) - applied


def _follow_first_versions(pairs: list[tuple[StagedRow, Participant]]) -> None:
    """A person's name and programme follow their first PRaP data.

    Their email follows only when they had none; the username only when it was a
    GUID. Commit decided the email was free, within this transaction.
    """
    users, participants = [], []
    for row, participant in pairs:
        user = participant.user
        user.first_name, user.last_name = row.first_name, row.last_name
        if row.email and not user.email:
            user.email = row.email
            if user.has_guid_username:
                user.username = row.email
                row.result_username = row.email
        participant.programme, participant.po_number = row.programme, row.po_number
        users.append(user)
        participants.append(participant)
    User.objects.bulk_update(users, ["first_name", "last_name", "email", "username"])
    Participant.objects.bulk_update(participants, ["programme", "po_number"])


def _version(batch: ImportBatch, row: StagedRow, pid: int, number: int, status: str) -> PrapVersion:
    version = PrapVersion(
        participant_id=pid,
        number=number,
        status=status,
        batch=batch,
        source_file=row.file.path,
        source_line=row.line,
        **{name: getattr(row, name) for name in _COPIED_FIELDS},
    )
    if status == VersionStatus.APPLIED:
        version.decided_at = timezone.now()
    return version


def _record_created(versions: list[PrapVersion]) -> None:
    VersionEvent.objects.bulk_create(
        [
            VersionEvent(
                version=version,
                action=VersionEvent.Action.CREATED,
                user=None,
                detail="Applied as the first PRaP data"
                if version.status == VersionStatus.APPLIED
                else "Awaiting a decision",
            )
            for version in versions
        ],
        batch_size=_INSERT_BATCH,
    )
