"""Writes for the participants app: PRaP versions, notes, access log, email and invitations."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from participants.models import (
    AccessLog,
    Invitation,
    Kind,
    Participant,
    PrapVersion,
    User,
    VersionEvent,
    VersionNote,
    VersionStatus,
)
from participants.selectors import email_in_use, invitation_hash, invitation_state

EMAIL_TAKEN = "A person with this email already exists."


# --- Access log --------------------------------------------------------------


def access_log_record(
    *, user: User, participant: Participant | None, action: str, detail: str = ""
) -> AccessLog:
    """Record that ``user`` saw personal data of ``participant``: who, whom, when, what."""
    return AccessLog.objects.create(
        user=user, participant=participant, action=action, detail=detail[:500]
    )


# --- PRaP versions -----------------------------------------------------------


def _lock_versions(participant_id: int) -> dict[int, PrapVersion]:
    # Lock the person first, then every version of theirs, always in that order,
    # so two decisions on the same person run one after the other.
    Participant.objects.select_for_update().get(pk=participant_id)
    return {
        v.pk: v
        for v in PrapVersion.objects.select_for_update().filter(participant_id=participant_id)
    }


def _person_follows(*, participant: Participant, version: PrapVersion) -> None:
    """Make the person's name, email and programme follow the newly applied data."""
    user = participant.user
    user.first_name = version.first_name
    user.last_name = version.last_name
    new_email = version.email.strip().lower()
    if new_email and new_email != user.email.lower():
        if email_in_use(email=new_email, exclude_user_id=user.pk):
            raise ValidationError(
                f"Version {version.number} can't be applied: its email {new_email} "
                "belongs to another person."
            )
        if user.has_guid_username:
            user.username = new_email
        user.email = new_email
    user.save(update_fields=["first_name", "last_name", "email", "username"])
    participant.programme = version.programme
    participant.po_number = version.po_number
    participant.save(update_fields=["programme", "po_number", "updated_at"])


def version_apply(*, version: PrapVersion, user: User) -> PrapVersion:
    """Make ``version`` the applied PRaP data of its person, in one transaction.

    The version applied until now becomes retained (a ``superseded`` event says
    why); the person's name, email, programme and PO number follow the new
    data. A new email must not belong to anyone else (as email or username,
    ignoring case), and replaces the username only where that was a GUID. An
    email the new data lacks leaves the person's email as it is. Raises
    ``ValidationError`` with a message for the user when the apply is refused.
    """
    try:
        with transaction.atomic():
            versions = _lock_versions(version.participant_id)
            target = versions[version.pk]
            if target.status == VersionStatus.APPLIED:
                raise ValidationError(f"Version {target.number} is already the applied version.")
            now = timezone.now()
            for previous in versions.values():
                if previous.status == VersionStatus.APPLIED:
                    previous.status = VersionStatus.RETAINED
                    previous.save(update_fields=["status"])
                    VersionEvent.objects.create(
                        version=previous,
                        action=VersionEvent.Action.SUPERSEDED,
                        user=user,
                        detail=f"Replaced by version {target.number}",
                    )
            target.status = VersionStatus.APPLIED
            target.decided_at = now
            target.decided_by = user
            target.save(update_fields=["status", "decided_at", "decided_by"])
            VersionEvent.objects.create(
                version=target, action=VersionEvent.Action.APPLIED, user=user
            )
            participant = Participant.objects.select_related("user").get(pk=target.participant_id)
            _person_follows(participant=participant, version=target)
    except IntegrityError as exc:
        if "email" in str(exc) or "username" in str(exc):
            # Another person took the email between the check and the save.
            message = (
                f"Version {version.number} can't be applied: its email belongs to another person."
            )
        else:
            message = f"Version {version.number} can't be applied: it changed meanwhile. Try again."
        raise ValidationError(message) from None
    return target


def version_retain(*, version: PrapVersion, user: User) -> PrapVersion:
    """Keep the applied version and mark the pending ``version`` retained.

    This takes the person off Requires attention once no version of theirs is
    pending. Raises ``ValidationError`` unless the version is pending.
    """
    with transaction.atomic():
        target = _lock_versions(version.participant_id)[version.pk]
        if target.status != VersionStatus.PENDING:
            raise ValidationError(
                f"Version {target.number} is {target.get_status_display().lower()}; "
                "only a pending version can be retained."
            )
        target.status = VersionStatus.RETAINED
        target.decided_at = timezone.now()
        target.decided_by = user
        target.save(update_fields=["status", "decided_at", "decided_by"])
        VersionEvent.objects.create(version=target, action=VersionEvent.Action.RETAINED, user=user)
    return target


# --- Version notes -----------------------------------------------------------


def note_create(*, version: PrapVersion, author: User, text: str) -> VersionNote:
    """Add a note to a version and record it in the version's history."""
    with transaction.atomic():
        note = VersionNote.objects.create(version=version, author=author, text=text)
        VersionEvent.objects.create(
            version=version, action=VersionEvent.Action.NOTE_ADDED, user=author
        )
    return note


def note_update(*, note: VersionNote, user: User, text: str) -> VersionNote:
    """Change a note's text; the caller has checked ``user`` may (author or Supervisor)."""
    with transaction.atomic():
        note.text = text
        note.save(update_fields=["text", "updated_at"])
        detail = "" if note.author_id == user.pk else f"Note by {note.author}"
        VersionEvent.objects.create(
            version=note.version, action=VersionEvent.Action.NOTE_EDITED, user=user, detail=detail
        )
    return note


def note_delete(*, note: VersionNote, user: User) -> None:
    """Delete a note; the caller has checked ``user`` may (author or Supervisor)."""
    with transaction.atomic():
        version = note.version
        detail = "" if note.author_id == user.pk else f"Note by {note.author}"
        note.delete()
        VersionEvent.objects.create(
            version=version, action=VersionEvent.Action.NOTE_DELETED, user=user, detail=detail
        )


# --- Email and invitations ---------------------------------------------------


def participant_set_email(*, participant: Participant, email: str, changed_by: User) -> User:
    """Give a prospect an email (lower case); a GUID username becomes the email.

    The form has checked the email is free; the database's case-insensitive
    unique constraint settles a race between two staff adding the same email,
    which is turned into ``ValidationError`` for the losing form.
    """
    user = participant.user
    if user.kind != Kind.PROSPECT:
        raise ValidationError("Only a prospect's email can be changed here.")
    email = email.strip().lower()
    user.email = email
    if user.has_guid_username:
        user.username = email
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "username"])
    except IntegrityError:
        user.refresh_from_db(fields=["email", "username"])
        raise ValidationError(EMAIL_TAKEN) from None
    access_log_record(
        user=changed_by, participant=participant, action="change_email", detail="Email changed"
    )
    return user


class InvitationRefused(Exception):
    """The person can't be invited; the message says why."""


def _invitation_link(token: str, base_url: str) -> str:
    return base_url.rstrip("/") + reverse("participants-accept-invitation", args=[token])


def invitation_send(*, user: User, sent_by: User, base_url: str) -> Invitation:
    """Email ``user`` a single-use link to choose a password.

    Earlier links of theirs stop working. Only a SHA-256 hash of the token is
    stored; the message names nobody but the person's first name. Raises
    ``InvitationRefused`` for someone who is not a prospect with an email.
    """
    if user.kind != Kind.PROSPECT:
        raise InvitationRefused(f"{user} already has an account.")
    if not user.email:
        raise InvitationRefused(f"{user} has no email: add one first.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    expires_at = now + datetime.timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        Invitation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            user=user,
            token_hash=invitation_hash(token),
            sent_to=user.email,
            created_by=sent_by,
            expires_at=expires_at,
        )
        context = {
            "first_name": user.first_name,
            "link": _invitation_link(token, base_url),
            "expires_at": expires_at,
        }
        # Sent inside the transaction: if the mail can't be handed over, no
        # invitation is recorded and the earlier link still works.
        send_mail(
            subject="Your PRaP Portal invitation",
            message=render_to_string("participants/email/invitation.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    return invitation


def invitations_send(
    *, users: Iterable[User], sent_by: User, base_url: str
) -> tuple[int, list[str]]:
    """Invite several people; return how many were sent and why the others were not."""
    sent, refused = 0, []
    for user in users:
        try:
            invitation_send(user=user, sent_by=sent_by, base_url=base_url)
        except InvitationRefused as exc:
            refused.append(str(exc))
        else:
            sent += 1
    return sent, refused


def invitations_send_for_batch(*, batch_id: int, sent_by: User, base_url: str) -> int:
    """Invite the new prospects of an import batch who have an email.

    New means their PRaP version 1 came from that batch. Returns how many were sent.
    """
    users = (
        User.objects.filter(
            kind=Kind.PROSPECT,
            participant__versions__number=1,
            participant__versions__batch_id=batch_id,
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    sent, _ = invitations_send(users=users.iterator(), sent_by=sent_by, base_url=base_url)
    return sent


class InvitationUnusable(Exception):
    """The link was used, replaced or has expired; ``state`` says which."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


def invitation_accept(*, invitation: Invitation, password: str) -> User:
    """Use an invitation: set the password and make the prospect a learner.

    The invitation is locked and checked again, so a link can only be used once.
    Raises ``InvitationUnusable`` if it was used, replaced or has expired.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        state = invitation_state(invitation)
        if state != "open":
            raise InvitationUnusable(state)
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        user.set_password(password)
        user.kind = Kind.LEARNER
        user.save(update_fields=["password", "kind"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
    return user
