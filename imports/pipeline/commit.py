"""Commit: the accepted rows of a validated batch become people and PRaP versions.

Runs inside the caller's transaction. First every accepted row is decided
again against the database as it is now (two queries a chunk at most); a row
whose decision turned into an error (another import created that person
meanwhile, say) becomes a conflict and is not imported, and a row whose action
changed (someone created the person meanwhile and updating is allowed) follows
the new decision. Then a handful of set-based statements copy the staged rows
into users, participants, versions and their audit, and record each row's
outcome, inside the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from imports.models import (
    BatchFile,
    ImportBatch,
    RowAction,
    RowIssue,
    RowOutcome,
    RowResult,
    RowStatus,
    StagedRow,
)
from participants.models import (
    Kind,
    Participant,
    PrapVersion,
    User,
    VersionEvent,
    VersionStatus,
)

from . import bulk
from .matching import MatchOptions, RowKey, decide
from .staging import ISSUE_FIELDS, VERSION_FIELDS, planned_username


@dataclass
class CommitCounts:
    created: int = 0
    applied: int = 0
    pending: int = 0
    unchanged: int = 0
    conflicts: int = 0


def commit_rows(
    *, batch: ImportBatch, chunk_rows: int, on_rows: Callable[[int], None]
) -> CommitCounts:
    """Import every accepted row of ``batch``; the caller holds the transaction."""
    _recheck(batch, chunk_rows, on_rows)
    now = _db_datetime(timezone.now())
    _create_people(batch, now)
    _store_versions(batch, now)
    _record_results(batch)
    _follow_first_versions(batch)
    _record_created_events(batch, now)
    results = dict(
        RowOutcome.objects.filter(batch=batch)
        .values_list("result")
        .annotate(n=Count("row"))
        .values_list("result", "n")
    )
    return CommitCounts(
        created=results.get(RowResult.CREATED, 0),
        applied=results.get(RowResult.APPLIED, 0),
        pending=results.get(RowResult.PENDING, 0),
        unchanged=results.get(RowResult.UNCHANGED, 0),
        conflicts=results.get(RowResult.CONFLICT, 0),
    )


def _c(field: str) -> str:
    return bulk.column(StagedRow, field)


def _to_import(batch: ImportBatch, actions: tuple[str, ...]) -> tuple[str, list[object]]:
    """SQL and parameters for the batch's accepted rows ``s`` with these actions and no outcome.

    A row the re-check found in conflict already has its outcome.
    """
    marks = ", ".join("%s" for _ in actions)
    outcome = bulk.table(RowOutcome)
    sql = (
        f"s.{_c('batch')} = %s AND s.{_c('status')} = %s AND s.{_c('action')} IN ({marks}) "
        f"AND NOT EXISTS (SELECT 1 FROM {outcome} o WHERE o.{bulk.column(RowOutcome, 'batch')} = %s "
        f"AND o.{bulk.column(RowOutcome, 'row')} = s.id)"
    )
    return sql, [batch.pk, RowStatus.ACCEPTED, *actions, batch.pk]


def _recheck(batch: ImportBatch, chunk_rows: int, on_rows: Callable[[int], None]) -> None:
    """Decide every accepted row again; write back only the rows whose decision changed."""
    options = MatchOptions(batch.update_by_nino, batch.update_by_email, batch.create_new)
    accepted = StagedRow.objects.filter(batch=batch, status=RowStatus.ACCEPTED).order_by("id")
    staged = bulk.table(StagedRow)
    last_id = 0
    while True:
        chunk = list(
            accepted.filter(id__gt=last_id).values_list(
                "id", "nino", "email", "data_hash", "action", "matched_participant_id"
            )[:chunk_rows]
        )
        if not chunk:
            break
        last_id = chunk[-1][0]
        decisions = decide([RowKey(n, e, h) for _, n, e, h, _, _ in chunk], options=options)
        conflicts, changed = [], []
        for (row_id, _, email, _, action, participant_id), decision in zip(
            chunk, decisions, strict=True
        ):
            if decision.rejected:
                conflicts.append((row_id, decision))
            elif (decision.action, decision.participant_id) != (action, participant_id):
                username = planned_username(email) if decision.action == RowAction.CREATE else ""
                changed.append((decision.action, decision.participant_id, username, row_id))
        if changed:
            with bulk.connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {staged} SET {_c('action')} = %s, {_c('matched_participant')} = %s, "
                    f"{_c('planned_username')} = %s WHERE id = %s",
                    changed,
                )
        if conflicts:
            RowOutcome.objects.bulk_create(
                RowOutcome(row_id=row_id, batch=batch, result=RowResult.CONFLICT)
                for row_id, _ in conflicts
            )
            bulk.insert_rows(
                RowIssue,
                ISSUE_FIELDS,
                (
                    (
                        batch.pk,
                        row_id,
                        i.severity,
                        i.code,
                        i.column,
                        f"{i.message} (found at import)",
                    )
                    for row_id, decision in conflicts
                    for i in decision.issues
                ),
            )
        on_rows(len(chunk))


def _create_people(batch: ImportBatch, now: object) -> None:
    """Users and participants for the rows that create: prospects with no usable password."""
    where, params = _to_import(batch, (RowAction.CREATE,))
    staged = bulk.table(StagedRow)
    _insert_select(
        User,
        {
            "password": bulk.random_text_sql("password"),
            "last_login": "NULL",
            "is_superuser": "FALSE",
            "username": f"s.{_c('planned_username')}",
            "first_name": f"s.{_c('first_name')}",
            "last_name": f"s.{_c('last_name')}",
            "email": f"s.{_c('email')}",
            "is_staff": "FALSE",
            "is_active": "TRUE",
            "date_joined": "%s",
            "kind": "%s",
            "avatar": "''",
        },
        f"FROM {staged} s WHERE {where}",
        [now, Kind.PROSPECT, *params],
    )
    _insert_select(
        Participant,
        {
            "user": f"u.{bulk.column(User, 'id')}",
            "nino": f"s.{_c('nino')}",
            "programme": f"s.{_c('programme')}",
            "po_number": f"s.{_c('po_number')}",
            "created_at": "%s",
            "updated_at": "%s",
        },
        f"FROM {staged} s JOIN {bulk.table(User)} u "
        f"ON u.{bulk.column(User, 'username')} = s.{_c('planned_username')} WHERE {where}",
        [now, now, *params],
    )


def _store_versions(batch: ImportBatch, now: object) -> None:
    """A version for every row that creates or updates: applied when it is the person's first.

    Every such row's NINO is its person's: matching by email alone never updates
    a person whose NINO differs, so rows find their person by NINO.
    """
    where, params = _to_import(batch, (RowAction.CREATE, RowAction.UPDATE))
    v = bulk.table(PrapVersion)
    of_person = f"v.{bulk.column(PrapVersion, 'participant')} = p.id"
    has_data = f"EXISTS (SELECT 1 FROM {v} v WHERE {of_person})"
    columns = {name: f"s.{_c(name)}" for name in VERSION_FIELDS}
    columns.update(
        {
            "participant": "p.id",
            "number": f"COALESCE((SELECT MAX(v.{bulk.column(PrapVersion, 'number')}) FROM {v} v "
            f"WHERE {of_person}), 0) + 1",
            "status": f"CASE WHEN {has_data} THEN %s ELSE %s END",
            "batch": f"s.{_c('batch')}",
            "source_file": f"f.{bulk.column(BatchFile, 'path')}",
            "source_line": f"s.{_c('line')}",
            "created_at": "%s",
            "decided_at": f"CASE WHEN {has_data} THEN NULL ELSE %s END",
            "decided_by": "NULL",
        }
    )
    _insert_select(
        PrapVersion,
        columns,
        f"FROM {bulk.table(StagedRow)} s "
        f"JOIN {bulk.table(Participant)} p ON p.{bulk.column(Participant, 'nino')} = s.{_c('nino')} "
        f"JOIN {bulk.table(BatchFile)} f ON f.id = s.{_c('file')} WHERE {where}",
        [VersionStatus.PENDING, VersionStatus.APPLIED, now, now, *params],
    )


def _record_results(batch: ImportBatch) -> None:
    """Each imported row's outcome: its result, its person and their username.

    A row that created a person finds them by NINO. A row that updated one
    carries its person from matching; the version this batch stored for them
    says whether the update was applied or is pending.
    """
    where, params = _to_import(batch, (RowAction.CREATE,))
    staged, p, u = bulk.table(StagedRow), bulk.table(Participant), bulk.table(User)
    outcome = {"row": "s.id", "batch": f"s.{_c('batch')}"}
    _insert_select(
        RowOutcome,
        {
            **outcome,
            "result": "%s",
            "participant": "p.id",
            "username": f"s.{_c('planned_username')}",
        },
        f"FROM {staged} s JOIN {p} p ON p.{bulk.column(Participant, 'nino')} = s.{_c('nino')} "
        f"WHERE {where}",
        [RowResult.CREATED, *params],
    )
    where, params = _to_import(batch, (RowAction.UPDATE, RowAction.UNCHANGED))
    v = bulk.table(PrapVersion)
    _insert_select(
        RowOutcome,
        {
            **outcome,
            "result": f"CASE WHEN s.{_c('action')} = %s THEN %s "
            f"WHEN v.{bulk.column(PrapVersion, 'status')} = %s THEN %s ELSE %s END",
            "participant": "p.id",
            "username": f"u.{bulk.column(User, 'username')}",
        },
        f"FROM {staged} s "
        f"JOIN {p} p ON p.id = s.{_c('matched_participant')} "
        f"JOIN {u} u ON u.id = p.{bulk.column(Participant, 'user')} "
        f"LEFT JOIN {v} v ON v.{bulk.column(PrapVersion, 'participant')} = p.id "
        f"AND v.{bulk.column(PrapVersion, 'batch')} = s.{_c('batch')} "
        f"WHERE {where}",
        [
            RowAction.UNCHANGED, RowResult.UNCHANGED,
            VersionStatus.PENDING, RowResult.PENDING, RowResult.APPLIED,
            *params,
        ],
    )  # fmt: skip


def _follow_first_versions(batch: ImportBatch) -> None:
    """Known people given their first PRaP data: name and programme follow it.

    Their email follows only when they had none, and their username only when it
    was a GUID; the re-check above made sure the email is nobody else's.
    """
    outcomes = list(
        RowOutcome.objects.filter(batch=batch, result=RowResult.APPLIED).select_related(
            "row", "participant__user"
        )
    )
    users, participants = [], []
    for outcome in outcomes:
        row, participant = outcome.row, outcome.participant
        user = participant.user
        user.first_name, user.last_name = row.first_name, row.last_name
        if row.email and not user.email:
            user.email = row.email
            if user.has_guid_username:
                user.username = row.email
                outcome.username = row.email
        participant.programme, participant.po_number = row.programme, row.po_number
        users.append(user)
        participants.append(participant)
    User.objects.bulk_update(users, ["first_name", "last_name", "email", "username"])
    Participant.objects.bulk_update(participants, ["programme", "po_number"])
    RowOutcome.objects.bulk_update(outcomes, ["username"])


def _record_created_events(batch: ImportBatch, now: object) -> None:
    v = bulk.table(PrapVersion)
    _insert_select(
        VersionEvent,
        {
            "version": "v.id",
            "action": "%s",
            "user": "NULL",
            "at": "%s",
            "detail": f"CASE WHEN v.{bulk.column(PrapVersion, 'status')} = %s "
            "THEN %s ELSE %s END",
        },
        f"FROM {v} v WHERE v.{bulk.column(PrapVersion, 'batch')} = %s",
        [
            VersionEvent.Action.CREATED, now, VersionStatus.APPLIED,
            "Applied as the first PRaP data", "Awaiting a decision", batch.pk,
        ],
    )  # fmt: skip


def _insert_select(model: type, columns: dict[str, str], source: str, params: list[object]) -> int:
    names = ", ".join(bulk.column(model, field) for field in columns)
    return bulk.execute(
        f"INSERT INTO {bulk.table(model)} ({names}) SELECT {', '.join(columns.values())} {source}",
        params,
    )


def _db_datetime(value: object) -> object:
    return bulk.connection.ops.adapt_datetimefield_value(value)
