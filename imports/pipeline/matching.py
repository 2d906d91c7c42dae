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


@dataclass(frozen=True)
class _Person:
    participant_id: int
    user_id: int
    email_ci: str


def decide(rows: Sequence[RowKey], *, options: MatchOptions) -> list[Decision]:
    """Decide create, update, unchanged or an error for each row: two look-ups at most.

    Only a row matched by NINO can update a person, so whether its data is
    unchanged is asked in the same look-up as the NINO. An email that is the
    NINO's person's own needs no look-up of its owner: emails are unique, and a
    user owns their email before anyone owns it as a username.
    """
    by_nino, unchanged = _people_by_nino({(row.nino, row.data_hash) for row in rows if row.nino})
    own_emails: dict[str, _Owner] = {}
    others: set[str] = set()
    for row in rows:
        if not row.email:
            continue
        person = by_nino.get(row.nino)
        if person is not None and person.email_ci == row.email:
            own_emails[row.email] = _Owner(person.user_id, person.participant_id)
        else:
            others.add(row.email)
    owners = {**_email_owners(others), **own_emails}
    return [_decide_row(row, by_nino, owners, unchanged, options) for row in rows]


def known_unchanged_sql(
    source_hash: str, *, options: MatchOptions
) -> tuple[str, list[object]] | None:
    """SQL for the version a record imported before made, when the record is unchanged.

    ``source_hash`` is the SQL of the record's source digest. The result is NULL
    unless the record would be decided ``unchanged`` if it were validated and
    matched afresh: it passed every rule with no issue when it was imported, its
    version is its person's applied data or newer, its NINO is still that
    person's, and its email is that person's own or, when updating by NINO is
    ticked, empty. A record it finds no version for is validated and decided
    afresh. None when the options let no record be unchanged.
    """
    if not (options.update_by_nino or options.update_by_email):
        return None
    v, p, u = bulk.table(PrapVersion), bulk.table(Participant), bulk.table(User)
    source, email = bulk.column(PrapVersion, "source_hash"), bulk.column(PrapVersion, "email")
    return (
        f"(SELECT MIN(c.id) FROM {v} c "
        f"JOIN {p} p ON p.id = c.{bulk.column(PrapVersion, 'participant')} "
        f"AND p.{bulk.column(Participant, 'nino')} = c.{bulk.column(PrapVersion, 'nino')} "
        f"JOIN {u} u ON u.id = p.{bulk.column(Participant, 'user')} "
        f"WHERE c.{source} = {source_hash} "
        f"AND c.{source} <> '' "  # the condition of the index that finds it
        f"AND {_applied_or_newer('c', 'p.id')} "
        f"AND ((c.{email} <> '' AND c.{email} = lower(u.email)) OR (c.{email} = '' AND %s)))",
        [*_APPLIED_OR_NEWER_PARAMS, options.update_by_nino],
    )


def _decide_row(
    row: RowKey,
    by_nino: dict[str, _Person],
    owners: dict[str, _Owner],
    unchanged: set[tuple[str, str]],
    options: MatchOptions,
) -> Decision:
    person = by_nino.get(row.nino)
    owner = owners.get(row.email) if row.email else None
    if person is not None:
        participant_id, user_id = person.participant_id, person.user_id
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
            action = (
                RowAction.UNCHANGED if (row.nino, row.data_hash) in unchanged else RowAction.UPDATE
            )
            return Decision(action, participant_id)
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


def _reject(code: str, column: str, message: str) -> Decision:
    return Decision("", None, (Issue("error", code, column, message),))


def _email_taken(email: str) -> Decision:
    return _reject(
        "email.taken",
        EMAIL_COLUMN,
        f"The email {email} is already used by another person.",
    )


# Each look-up joins the chunk's keys to the indexed column, one index probe a
# key (bulk.values_table), where a long IN list can be read as a scan of the
# whole table.


def _people_by_nino(
    keys: set[tuple[str, str]],
) -> tuple[dict[str, _Person], set[tuple[str, str]]]:
    """The person of each NINO, and which (NINO, digest) pairs are their unchanged data."""
    if not keys:
        return {}, set()
    p, v = bulk.table(Participant), bulk.table(PrapVersion)
    found, params = bulk.values_table(
        "k", [("nino", "text"), ("h", "text")], list(zip(*keys, strict=True))
    )
    rows = bulk.fetch(
        f"SELECT p.id, u.id, lower(u.email), k.nino, k.h, EXISTS ("
        f"SELECT 1 FROM {v} v WHERE v.{bulk.column(PrapVersion, 'participant')} = p.id "
        f"AND v.{bulk.column(PrapVersion, 'data_hash')} = k.h "
        f"AND {_applied_or_newer('v', 'p.id')}) "
        f"FROM {found} "
        f"JOIN {p} p ON p.{bulk.column(Participant, 'nino')} = k.nino "
        f"JOIN {bulk.table(User)} u ON u.id = p.{bulk.column(Participant, 'user')}",
        [*_APPLIED_OR_NEWER_PARAMS, *params],
    )
    by_nino = {nino: _Person(pid, user_id, email_ci) for pid, user_id, email_ci, nino, _, _ in rows}
    unchanged = {(nino, data_hash) for *_, nino, data_hash, same in rows if same}
    return by_nino, unchanged


def _applied_or_newer(version: str, participant: str) -> str:
    """SQL: the version is the participant's applied one or newer than it (none applied: any).

    Data equal to such a version is unchanged. Takes _APPLIED_OR_NEWER_PARAMS.
    """
    v = bulk.table(PrapVersion)
    status, number = bulk.column(PrapVersion, "status"), bulk.column(PrapVersion, "number")
    return (
        f"({version}.{status} = %s OR {version}.{number} > COALESCE((SELECT MAX(a.{number}) "
        f"FROM {v} a WHERE a.{bulk.column(PrapVersion, 'participant')} = {participant} "
        f"AND a.{status} = %s), 0))"
    )


_APPLIED_OR_NEWER_PARAMS = (VersionStatus.APPLIED, VersionStatus.APPLIED)


def _email_owners(emails: Iterable[str]) -> dict[str, _Owner]:
    """Users whose email or username is one of these (lower case), with their participant."""
    emails = set(emails)
    if not emails:
        return {}
    users = _users_by_email(emails)
    # A user whose email it is owns it before one whose username it is.
    owners = {
        email_ci: _Owner(user_id, participant_id)
        for user_id, email_ci, _, participant_id in users
        if email_ci in emails
    }
    for user_id, _, username, participant_id in users:
        if (key := username.lower()) in emails:
            owners.setdefault(key, _Owner(user_id, participant_id))
    return owners


def _users_by_email(emails: set[str]) -> list[tuple[int, str, str, int | None]]:
    # lower(email) and upper(username) are the expressions the user table indexes.
    u, p = bulk.table(User), bulk.table(Participant)
    found, params = bulk.values_table("k", [("e", "text")], [list(emails)])
    select = f"SELECT u.id, lower(u.email), u.username, p.id FROM {found} "
    person = f"LEFT JOIN {p} p ON p.{bulk.column(Participant, 'user')} = u.id"
    # UNION ALL: a user found both ways is counted once by _email_owners.
    return bulk.fetch(
        f"{select} JOIN {u} u ON lower(u.email) = k.e {person} UNION ALL "
        f"{select} JOIN {u} u ON upper(u.username) = upper(k.e) {person}",
        [*params, *params],
    )
