"""Matching staged rows to people already in the database (spec §7).

A row is matched first by NINO, then by email. The wizard's options say which
matches may update a record and whether a row nobody matches may create one.
The same decision runs at validation and again at commit, against the
database as it is then, so a stale report cannot create duplicates.

Choices where the contract is silent:
- A row whose NINO belongs to one person and whose email to a user who is not
  a participant (a member of staff, say) is ``email.taken``.
- A row matched by NINO when only "update by email" is ticked updates that
  person when their email is the row's email too; otherwise it is
  ``match.exists``.
- Data is ``unchanged`` when it equals the applied version or a version newer
  than it (pending, or retained by a decision), so importing a bundle twice
  adds no second pending copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Lower, Upper

from imports.models import RowAction
from participants.models import Participant, PrapVersion, User, VersionStatus

from . import bulk

NINO_COLUMN = "National Insurance Number"
EMAIL_COLUMN = "Email Address"


@dataclass(frozen=True)
class MatchOptions:
    update_by_nino: bool
    update_by_email: bool
    create_new: bool


@dataclass(frozen=True)
class RowKey:
    nino: str
    email: str
    data_hash: str


@dataclass(frozen=True)
class Issue:
    severity: str
    code: str
    column: str
    message: str


@dataclass(frozen=True)
class Decision:
    action: str  # a RowAction, or "" when the row is rejected
    participant_id: int | None
    issues: tuple[Issue, ...] = ()

    @property
    def rejected(self) -> bool:
        return any(issue.severity == "error" for issue in self.issues)


@dataclass(frozen=True)
class _Owner:
    user_id: int
    participant_id: int | None


def decide(rows: Sequence[RowKey], *, options: MatchOptions) -> list[Decision]:
    """Decide create, update, unchanged or an error for each row: three look-ups in all."""
    ninos = {row.nino for row in rows if row.nino}
    emails = {row.email for row in rows if row.email}
    by_nino = {nino: (pid, user_id) for pid, user_id, nino in _participants_by_nino(ninos)}
    owners = _email_owners(emails)
    matched_ids = {pid for pid, _ in by_nino.values()} | {
        owner.participant_id for owner in owners.values() if owner.participant_id
    }
    hashes = _current_hashes(matched_ids)
    return [_decide_row(row, by_nino, owners, hashes, options) for row in rows]


def _decide_row(
    row: RowKey,
    by_nino: dict[str, tuple[int, int]],
    owners: dict[str, _Owner],
    hashes: dict[int, set[str] | None],
    options: MatchOptions,
) -> Decision:
    person = by_nino.get(row.nino)
    owner = owners.get(row.email) if row.email else None
    if person is not None:
        participant_id, user_id = person
        if owner is not None and owner.user_id != user_id:
            if owner.participant_id is not None:
                return _reject(
                    "match.ambiguous",
                    "",
                    "The National Insurance number matches one person and the email "
                    "another. Correct the file or the existing records, then import again.",
                )
            return _email_taken(row.email)
        by_email = owner is not None and owner.user_id == user_id
        if options.update_by_nino or (options.update_by_email and by_email):
            return _update(participant_id, row.data_hash, hashes)
        return _reject(
            "match.exists",
            NINO_COLUMN,
            "A person with this National Insurance number already exists, and updating "
            "existing records matched by National Insurance number is not ticked.",
        )
    if owner is not None:
        if owner.participant_id is not None and options.update_by_email:
            return _reject(
                "match.nino_mismatch",
                EMAIL_COLUMN,
                "The email matches a person who holds a different National Insurance number.",
            )
        if owner.participant_id is not None and not options.create_new:
            return _reject(
                "match.exists",
                EMAIL_COLUMN,
                "A person with this email already exists, and updating existing records "
                "matched by email is not ticked.",
            )
        return _email_taken(row.email)
    if not options.create_new:
        return _reject(
            "match.not_found",
            "",
            "Nobody matches this National Insurance number or email, and creating new "
            "records is not ticked.",
        )
    issues: tuple[Issue, ...] = ()
    if not row.email:
        issues = (
            Issue(
                "warning",
                "email.missing",
                EMAIL_COLUMN,
                "No email: the prospect can't log in until an email is added and an "
                "invitation sent.",
            ),
        )
    return Decision(RowAction.CREATE, None, issues)


def _update(participant_id: int, data_hash: str, hashes: dict[int, set[str] | None]) -> Decision:
    known = hashes.get(participant_id)
    if known is not None and data_hash in known:
        return Decision(RowAction.UNCHANGED, participant_id)
    return Decision(RowAction.UPDATE, participant_id)


def _reject(code: str, column: str, message: str) -> Decision:
    return Decision("", None, (Issue("error", code, column, message),))


def _email_taken(email: str) -> Decision:
    return _reject(
        "email.taken",
        EMAIL_COLUMN,
        f"The email {email} is already used by another person.",
    )


# On PostgreSQL each look-up joins the chunk's keys, passed as one array, to the
# indexed column: one index probe a key, where a long IN list is read as a scan
# of the whole table. SQLite takes the ORM's IN lists.


def _participants_by_nino(ninos: set[str]) -> list[tuple[int, int, str]]:
    if not ninos:
        return []
    if bulk.is_postgresql():
        p = bulk.table(Participant)
        return bulk.fetch(
            f"SELECT p.id, p.user_id, p.nino FROM unnest(%s::text[]) AS k(nino) "
            f"JOIN {p} p ON p.nino = k.nino",
            [list(ninos)],
        )
    return list(Participant.objects.filter(nino__in=ninos).values_list("id", "user_id", "nino"))


def _email_owners(emails: Iterable[str]) -> dict[str, _Owner]:
    """Users whose email or username is one of these (lower case), with their participant."""
    emails = set(emails)
    if not emails:
        return {}
    owners: dict[str, _Owner] = {}
    for user_id, email_ci, username, participant_id in _users_by_email(emails):
        for key in (email_ci, username.lower()):
            if key in emails:
                owners.setdefault(key, _Owner(user_id, participant_id))
    return owners


def _users_by_email(emails: set[str]) -> list[tuple[int, str, str, int | None]]:
    # Lower(email) and Upper(username) are the expressions the user table indexes.
    if bulk.is_postgresql():
        u, p = bulk.table(User), bulk.table(Participant)
        select = "SELECT u.id, lower(u.email), u.username, p.id FROM unnest(%s::text[]) AS k(e) "
        person = f"LEFT JOIN {p} p ON p.user_id = u.id"
        return bulk.fetch(
            f"{select} JOIN {u} u ON lower(u.email) = k.e {person} UNION "
            f"{select} JOIN {u} u ON upper(u.username) = k.e {person}",
            [list(emails), [e.upper() for e in emails]],
        )
    return list(
        User.objects.annotate(email_ci=Lower("email"), username_ci=Upper("username"))
        .filter(Q(email_ci__in=emails) | Q(username_ci__in=[e.upper() for e in emails]))
        .values_list("id", "email_ci", "username", "participant__id")
    )


def _versions_of(participant_ids: set[int]) -> list[tuple[int, int, str, str]]:
    if bulk.is_postgresql():
        v = bulk.table(PrapVersion)
        return bulk.fetch(
            f"SELECT v.participant_id, v.number, v.status, v.data_hash "
            f"FROM unnest(%s::bigint[]) AS k(id) JOIN {v} v ON v.participant_id = k.id",
            [list(participant_ids)],
        )
    return list(
        PrapVersion.objects.filter(participant_id__in=participant_ids).values_list(
            "participant_id", "number", "status", "data_hash"
        )
    )


def _current_hashes(participant_ids: set[int]) -> dict[int, set[str] | None]:
    """Per participant, the digests that count as unchanged; None when they have no data."""
    versions: dict[int, list[tuple[int, str, str]]] = {}
    for pid, number, status, data_hash in _versions_of(participant_ids) if participant_ids else []:
        versions.setdefault(pid, []).append((number, status, data_hash))
    hashes: dict[int, set[str] | None] = {}
    for pid in participant_ids:
        rows = versions.get(pid)
        if not rows:
            hashes[pid] = None
            continue
        applied = max((n for n, s, _ in rows if s == VersionStatus.APPLIED), default=0)
        hashes[pid] = {h for n, s, h in rows if s == VersionStatus.APPLIED or n > applied}
    return hashes
