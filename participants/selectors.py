"""Reads for the participants app: scoped look-ups, the list, sections and counts.

Each scoping helper answers 404 for anything the user may not see, so an id in
a URL reveals nothing about whether the record exists.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format

from imports.pipeline.columns import ADDITIONAL, COLUMNS, NINO, SECTIONS
from participants import roles
from participants.models import (
    AccessLog,
    Invitation,
    Kind,
    Participant,
    PrapVersion,
    User,
    VersionNote,
    VersionStatus,
)
from participants.nino import nino_display, nino_mask, nino_search_prefix

# Sort keys offered on the list, each backed by an index (see migration 0003).
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Name (A to Z)", ("user__last_name", "user__first_name", "user_id")),
    "-name": ("Name (Z to A)", ("-user__last_name", "-user__first_name", "-user_id")),
    "nino": ("National Insurance number", ("nino",)),
    "po_number": ("PO number", ("po_number", "pk")),
    "programme": ("Programme", ("programme", "pk")),
    "newest": ("Newest first", ("-pk",)),
}
DEFAULT_SORT = "name"


# --- Scoping helpers ---------------------------------------------------------


def is_participant_viewer(user: roles.User) -> bool:
    return (
        user.is_authenticated
        and getattr(user, "kind", None) == Kind.STAFF
        and roles.can_view_participants(user)
    )


def participant_get_for_staff(*, user: roles.User, pk: int) -> Participant:
    """The participant ``pk`` with their user, or 404 unless ``user`` is staff who may view it."""
    if not is_participant_viewer(user):
        raise Http404
    try:
        return Participant.objects.select_related("user").get(pk=pk)
    except Participant.DoesNotExist:
        raise Http404 from None


def participant_get_own(*, user: roles.User) -> Participant:
    """The signed-in learner's own participant record, or 404 for anyone else."""
    if not user.is_authenticated or getattr(user, "kind", None) != Kind.LEARNER:
        raise Http404
    try:
        return Participant.objects.select_related("user").get(user=user)
    except Participant.DoesNotExist:
        raise Http404 from None


def participant_get_for_history(*, user: roles.User, pk: int) -> Participant:
    """Like ``participant_get_for_staff``, for users allowed to see version history."""
    if not roles.can_set_versions(user):
        raise Http404
    return participant_get_for_staff(user=user, pk=pk)


def note_get_for_change(*, user: roles.User, version: PrapVersion, note_id: int) -> VersionNote:
    """A note on ``version`` that ``user`` may edit or delete: their own, or any for a Supervisor."""
    notes = VersionNote.objects.filter(version=version)
    if not user.has_perm(roles.PERM_SUPERVISE):
        notes = notes.filter(author=user)
    try:
        return notes.get(pk=note_id)
    except VersionNote.DoesNotExist:
        raise Http404 from None


def note_can_change(*, user: roles.User, note: VersionNote) -> bool:
    return note.author_id == user.pk or user.has_perm(roles.PERM_SUPERVISE)


# --- The participants list ---------------------------------------------------


def _search_q(text: str) -> Q:
    """What a search text means, chosen by its shape so each path can use an index.

    An ``@`` means an email; a digit means a NINO or a PO number; anything else
    is a name. Mixing tables in one OR would stop the database using indexes.
    """
    text = " ".join(text.split())
    if "@" in text:
        return Q(email_lower__startswith=text.lower())
    if any(c.isdigit() for c in text):
        q = Q(po_number__istartswith=text.replace(" ", ""))
        prefix = nino_search_prefix(text)
        if prefix:
            q |= Q(nino__startswith=prefix)
        return q
    q = Q(user__first_name__istartswith=text) | Q(user__last_name__istartswith=text)
    words = text.split(" ")
    if len(words) > 1:
        first, last = words[0], words[-1]
        q |= Q(user__first_name__istartswith=first, user__last_name__istartswith=last)
        q |= Q(user__last_name__istartswith=first, user__first_name__istartswith=last)
    return q


def _pending_exists() -> Exists:
    return Exists(
        PrapVersion.objects.filter(participant=OuterRef("pk"), status=VersionStatus.PENDING)
    )


def participant_list(
    *, search: str = "", status: str = "", programme: str = "", sort: str = DEFAULT_SORT
) -> QuerySet[Participant]:
    """Participants matching the list's search and filters, sorted, one query per page."""
    qs = Participant.objects.select_related("user").annotate(has_pending=_pending_exists())
    if search.strip():
        if "@" in search:
            qs = qs.annotate(email_lower=Lower("user__email"))
        qs = qs.filter(_search_q(search))
    if status in (Kind.PROSPECT, Kind.LEARNER):
        qs = qs.filter(user__kind=status)
    if programme:
        qs = qs.filter(programme=programme)
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])[1])


# Each step finds the next programme through the programme index, so listing
# the few programmes costs a handful of index probes however many people there
# are (a plain DISTINCT reads every row). Portable across PostgreSQL and SQLite.
_PROGRAMMES_SQL = """
WITH RECURSIVE programmes(name) AS (
    SELECT MIN(programme) FROM participants_participant WHERE programme > ''
    UNION ALL
    SELECT (SELECT MIN(programme) FROM participants_participant WHERE programme > name)
    FROM programmes WHERE name IS NOT NULL
)
SELECT name FROM programmes WHERE name IS NOT NULL
"""


def programme_choices() -> list[str]:
    """Every programme someone is enrolled on, in order, for the list's filter."""
    with connection.cursor() as cursor:
        cursor.execute(_PROGRAMMES_SQL)
        return [row[0] for row in cursor.fetchall()]


# --- PRaP sections -----------------------------------------------------------


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: str  # empty means "Not provided"
    changed: bool = False
    old: str = ""


@dataclass
class Section:
    title: str
    rows: list[FieldRow] = field(default_factory=list)


def _display(value: object, *, is_nino: bool = False, reveal_nino: bool = False) -> str:
    if value is None or value == "":
        return ""
    if is_nino:
        return nino_display(str(value)) if reveal_nino else nino_mask(str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.date):
        return date_format(value, "j F Y")
    return str(value)


def prap_sections(
    version: PrapVersion, *, compare_to: PrapVersion | None = None, reveal_nino: bool = False
) -> list[Section]:
    """The four sections of spec §4 for ``version``, labelled as in the contract.

    Extra columns from the file follow the contract's fields under Additional
    details. With ``compare_to``, rows whose value differs are marked changed
    and carry the other version's value as ``old``.
    """
    sections = {title: Section(title) for title in SECTIONS}
    for column in COLUMNS:
        is_nino = column.kind == NINO
        new = getattr(version, column.field)
        row = FieldRow(column.name, _display(new, is_nino=is_nino, reveal_nino=reveal_nino))
        if compare_to is not None and compare_to.pk != version.pk:
            old = getattr(compare_to, column.field)
            if old != new:
                row = FieldRow(
                    row.label,
                    row.value,
                    changed=True,
                    old=_display(old, is_nino=is_nino, reveal_nino=reveal_nino),
                )
        sections[column.section].rows.append(row)
    extra = version.extra or {}
    old_extra = (compare_to.extra or {}) if compare_to is not None else {}
    names = list(extra) + [n for n in old_extra if n not in extra]
    for name in names:
        new, old = extra.get(name), old_extra.get(name)
        changed = compare_to is not None and compare_to.pk != version.pk and new != old
        sections[ADDITIONAL].rows.append(
            FieldRow(
                str(name), _display(new), changed=changed, old=_display(old) if changed else ""
            )
        )
    return list(sections.values())


def changed_labels(version: PrapVersion, applied: PrapVersion | None) -> list[str]:
    """The contract labels of the fields where ``version`` differs from ``applied``."""
    if applied is None:
        return []
    return [
        row.label
        for section in prap_sections(version, compare_to=applied)
        for row in section.rows
        if row.changed
    ]


# --- Versions ----------------------------------------------------------------


def versions_for_participant(*, participant: Participant) -> list[PrapVersion]:
    """Every version of a participant, newest first, with batch and decider loaded."""
    return list(
        PrapVersion.objects.filter(participant=participant)
        .select_related("batch", "decided_by")
        .order_by("-number")
    )


def version_applied(*, participant: Participant) -> PrapVersion | None:
    return PrapVersion.objects.filter(participant=participant, status=VersionStatus.APPLIED).first()


def version_has_pending(*, participant: Participant) -> bool:
    return PrapVersion.objects.filter(
        participant=participant, status=VersionStatus.PENDING
    ).exists()


def version_notes(*, version: PrapVersion) -> list[VersionNote]:
    return list(version.version_notes.select_related("author").order_by("created_at", "pk"))


def version_events(*, version: PrapVersion) -> list:
    return list(version.events.select_related("user").order_by("-at", "-pk"))


# --- Requires attention ------------------------------------------------------


def requires_attention_list() -> QuerySet[dict]:
    """One entry per person with a pending version (``participant_id``, ``pending_since``).

    Read from the pending versions alone, longest waiting first, so the cost
    follows how many people wait, not how many people there are.
    """
    return (
        PrapVersion.objects.filter(status=VersionStatus.PENDING)
        .values("participant_id")
        .annotate(pending_since=Min("created_at"))
        .order_by("pending_since", "participant_id")
    )


@dataclass(frozen=True)
class AttentionRow:
    participant: Participant
    pending: PrapVersion
    pending_since: datetime.datetime
    changed: list[str]


def requires_attention_rows(entries: Iterable[dict]) -> list[AttentionRow]:
    """The people of a page of ``requires_attention_list``, with the fields that changed.

    Two queries whatever the page size: the people, then their applied and
    pending versions.
    """
    entries = list(entries)
    people = (
        Participant.objects.select_related("user")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=PrapVersion.objects.filter(
                    status__in=(VersionStatus.APPLIED, VersionStatus.PENDING)
                ).order_by("-number"),
                to_attr="open_versions",
            )
        )
        .in_bulk([e["participant_id"] for e in entries])
    )
    rows = []
    for entry in entries:
        participant = people[entry["participant_id"]]
        applied = next(
            (v for v in participant.open_versions if v.status == VersionStatus.APPLIED), None
        )
        pending = next(v for v in participant.open_versions if v.status == VersionStatus.PENDING)
        rows.append(
            AttentionRow(
                participant, pending, entry["pending_since"], changed_labels(pending, applied)
            )
        )
    return rows


def requires_attention_count() -> int:
    """How many people have at least one pending version: one COUNT on a partial index."""
    return (
        PrapVersion.objects.filter(status=VersionStatus.PENDING)
        .values("participant_id")
        .distinct()
        .count()
    )


# --- Email and invitations ---------------------------------------------------


def email_in_use(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether another person holds ``email`` as their email or username, ignoring case."""
    email = email.strip().lower()
    others = User.objects.all()
    if exclude_user_id is not None:
        others = others.exclude(pk=exclude_user_id)
    return (
        others.exclude(email="")
        .annotate(email_lower=Lower("email"))
        .filter(email_lower=email)
        .exists()
        or others.filter(username__iexact=email).exists()
    )


def invitation_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation a link's token belongs to; only the token's hash is stored."""
    return (
        Invitation.objects.select_related("user").filter(token_hash=invitation_hash(token)).first()
    )


def invitation_state(invitation: Invitation, *, now: datetime.datetime | None = None) -> str:
    """``used``, ``revoked``, ``expired`` or ``open``."""
    now = now or timezone.now()
    if invitation.used_at:
        return "used"
    if invitation.revoked_at:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "open"


def invitations_for_user(*, user: User) -> list[Invitation]:
    return list(
        Invitation.objects.filter(user=user).select_related("created_by").order_by("created_at")
    )


# --- The access log ----------------------------------------------------------

# What each access-log action means, in the words Compliance QA reads.
ACCESS_ACTIONS: dict[str, str] = {
    "view_prap_details": "Viewed PRaP Details",
    "view_prap_version": "Viewed a PRaP version",
    "reveal_nino": "Revealed a National Insurance number",
    "view_own_details": "Viewed their own details",
    "export_errors": "Exported an import's errors",
    "export_successes": "Exported an import's imported records",
    "report_preview": "Previewed a report",
    "report_export": "Exported a report",
}


def can_read_access_log(user: roles.User) -> bool:
    return (
        user.is_authenticated
        and getattr(user, "kind", None) == Kind.STAFF
        and user.has_perm(roles.PERM_VIEW_ACCESS_LOG)
    )


def access_log_list(
    *,
    user: str = "",
    action: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    participant: str = "",
) -> QuerySet[AccessLog]:
    """Access-log entries, newest first, filtered by who looked, what, when and at whom.

    ``user`` matches the username's start or a name; ``participant`` a NINO's
    start or a name; dates are local days, both ends included.
    """
    entries = AccessLog.objects.select_related("user", "participant__user")
    if user := " ".join(user.split()):
        entries = entries.filter(
            Q(user__username__istartswith=user)
            | Q(user__first_name__istartswith=user)
            | Q(user__last_name__istartswith=user)
        )
    if action:
        entries = entries.filter(action=action)
    if date_from:
        entries = entries.filter(at__gte=_local_midnight(date_from))
    if date_to:
        entries = entries.filter(at__lt=_local_midnight(date_to + datetime.timedelta(days=1)))
    if participant := " ".join(participant.split()):
        prefix = nino_search_prefix(participant)
        if prefix:
            entries = entries.filter(participant__nino__startswith=prefix)
        else:
            entries = entries.filter(
                Q(participant__user__first_name__istartswith=participant)
                | Q(participant__user__last_name__istartswith=participant)
            )
    return entries.order_by("-at", "-id")


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
