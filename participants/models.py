"""People and their PRaP data.

A person is a ``User`` of one kind: prospect (created by an import, cannot log
in yet), learner (has accepted an invitation) or staff. A participant's PRaP
data is held as numbered ``PrapVersion`` rows; exactly one is applied.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from imports.pipeline.columns import FIELDS


class Kind(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    LEARNER = "learner", "Learner"
    STAFF = "staff", "Staff"


class User(AbstractUser):
    # Unique through Meta.constraints, not unique=True: on PostgreSQL a unique
    # field also gets a varchar_pattern_ops index, written on every insert but
    # read by no query (prefix searches use UPPER(username), see migration 0005).
    username = models.CharField(
        _("username"),
        max_length=150,
        help_text=_("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
        validators=[AbstractUser.username_validator],
        error_messages={"unique": _("A user with that username already exists.")},
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STAFF)
    avatar = models.ImageField(upload_to="avatars/", blank=True)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username"], name="user_username_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
                violation_error_message="A person with this email already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in Kind]), name="user_kind_valid"
            ),
        ]
        permissions = [
            ("create_users", "Create users and import PRaP files"),
            ("view_nino", "Reveal National Insurance numbers"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def has_guid_username(self) -> bool:
        try:
            uuid.UUID(self.username)
        except ValueError:
            return False
        return True

    @property
    def can_log_in(self) -> bool:
        return self.kind != Kind.PROSPECT or bool(self.email)

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return "".join(p[0] for p in parts).upper() or self.username[:1].upper()


class PrapData(models.Model):
    """Typed columns for every field of the contract (spec §4), plus extra columns.

    Shared by a staged import row and a stored PRaP version so that commit can
    copy one into the other column for column.
    """

    title = models.CharField("Title", max_length=20, blank=True)
    first_name = models.CharField("First Name", max_length=100, blank=True)
    middle_names = models.CharField("Middle Names", max_length=100, blank=True)
    last_name = models.CharField("Last Name", max_length=100, blank=True)
    nino = models.CharField("National Insurance Number", max_length=9, blank=True)
    date_of_birth = models.DateField("Date of Birth", null=True, blank=True)
    gender = models.CharField("Gender", max_length=30, blank=True)
    welsh_language = models.CharField("Welsh Language", max_length=30, blank=True)

    address_line_1 = models.CharField("Address Line 1", max_length=100, blank=True)
    address_line_2 = models.CharField("Address Line 2", max_length=100, blank=True)
    address_line_3 = models.CharField("Address Line 3", max_length=100, blank=True)
    town = models.CharField("Town", max_length=100, blank=True)
    county = models.CharField("County", max_length=100, blank=True)
    postcode = models.CharField("Postcode", max_length=8, blank=True)
    telephone = models.CharField("Telephone Number", max_length=11, blank=True)
    telephone_e164 = models.CharField("Telephone (E.164)", max_length=13, blank=True)
    mobile = models.CharField("Mobile Number", max_length=11, blank=True)
    mobile_e164 = models.CharField("Mobile (E.164)", max_length=13, blank=True)
    email = models.CharField("Email Address", max_length=254, blank=True)

    po_number = models.CharField("PO Number", max_length=30, blank=True)
    referral_id = models.CharField("Referral ID", max_length=50, blank=True)
    referral_date = models.DateField("Referral Date", null=True, blank=True)
    programme = models.CharField("Programme", max_length=100, blank=True)
    contract = models.CharField("Contract", max_length=100, blank=True)
    opportunity_type = models.CharField("Opportunity Type", max_length=100, blank=True)
    customer_group = models.CharField("Customer Group", max_length=100, blank=True)
    benefit_type = models.CharField("Benefit Type", max_length=50, blank=True)
    jobcentre = models.CharField("Jobcentre", max_length=100, blank=True)
    work_coach = models.CharField("Work Coach", max_length=100, blank=True)
    voluntary_mandatory = models.CharField("Voluntary or Mandatory", max_length=9, blank=True)

    disability_status = models.BooleanField("Disability Status", null=True, blank=True)
    incident_marker = models.BooleanField("Incident Marker", null=True, blank=True)
    reasonable_adjustments = models.TextField("Reasonable Adjustments", blank=True)
    driving_licence = models.CharField("Driving Licence", max_length=50, blank=True)
    childcare_needs = models.TextField("Childcare Needs", blank=True)
    preferred_hours = models.CharField("Preferred Hours", max_length=200, blank=True)
    job_preferences = models.TextField("Job Preferences", blank=True)
    notes = models.TextField("Notes", blank=True)

    extra = models.JSONField("Extra columns", default=dict, blank=True)
    # Digest of the normalised data and extra columns: equal digests mean the
    # same PRaP data, which is how a re-import is recognised as unchanged.
    data_hash = models.CharField(max_length=64, blank=True)

    # Every field of the contract and the two E.164 copies, in contract order.
    DATA_FIELDS: tuple[str, ...] = (*FIELDS, "telephone_e164", "mobile_e164")

    class Meta:
        abstract = True

    def prap_values(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.DATA_FIELDS}


class Participant(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participant"
    )
    # unique=True on purpose: the varchar_pattern_ops copy it brings on
    # PostgreSQL serves the NINO prefix searches, the unique index the sort.
    nino = models.CharField("National Insurance Number", max_length=9, unique=True)
    programme = models.CharField(max_length=100, blank=True)
    po_number = models.CharField("PO Number", max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Plain indexes, not db_index=True, which on PostgreSQL adds a
        # varchar_pattern_ops copy no query reads: programme is only compared
        # whole, and PO number prefixes use UPPER(po_number) (migration 0003).
        # These serve the list's sorts, its programme filter and choices.
        indexes = [
            models.Index(fields=["programme"], name="participant_programme_idx"),
            models.Index(fields=["po_number"], name="participant_po_number_idx"),
        ]
        permissions = [
            ("supervise", "Supervisor"),
            ("compliance_qa", "Compliance QA"),
            ("set_prap_version", "Ability to set PRaP version"),
            ("view_access_log", "Read the access log"),
        ]

    def __str__(self) -> str:
        return str(self.user)


class VersionStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    PENDING = "pending", "Pending"
    RETAINED = "retained", "Retained"


class PrapVersion(PrapData):
    # Indexed by the unique (participant, number) constraint.
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus.choices)
    batch = models.ForeignKey(
        "imports.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="versions",
    )
    source_file = models.CharField(max_length=500, blank=True)
    source_line = models.PositiveIntegerField(null=True, blank=True)
    # The digest of the record this version was imported from, as the file held
    # it, when no field rule found fault with that record; "" otherwise. The
    # same record imported again is then known without validating it afresh.
    source_hash = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["participant", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(status="applied"),
                name="version_one_applied",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in VersionStatus]),
                name="version_status_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "participant"],
                name="version_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["source_hash"],
                name="version_source_hash_idx",
                condition=~models.Q(source_hash=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.get_status_display()})"


class VersionNote(models.Model):
    version = models.ForeignKey(PrapVersion, on_delete=models.CASCADE, related_name="version_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on {self.version}"


class VersionEvent(models.Model):
    """The audit of a PRaP version: what was done to it, by whom, when."""

    class Action(models.TextChoices):
        CREATED = "created", "Created by import"
        APPLIED = "applied", "Applied"
        RETAINED = "retained", "Retained"
        SUPERSEDED = "superseded", "Superseded"
        NOTE_ADDED = "note_added", "Note added"
        NOTE_EDITED = "note_edited", "Note edited"
        NOTE_DELETED = "note_deleted", "Note deleted"

    version = models.ForeignKey(PrapVersion, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%d %b %Y %H:%M}"


class AccessLog(models.Model):
    """Every view of personal data: who looked at whom, when, and what."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%d %b %Y %H:%M}"


class Invitation(models.Model):
    """A single-use link that lets a prospect choose a password."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation sent {self.created_at:%d %b %Y %H:%M}"
