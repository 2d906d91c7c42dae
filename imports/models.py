"""Import batches: one uploaded bundle, its files, its staged rows and their issues."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from participants.models import Participant, PrapData


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Validated"
    REFUSED = "refused", "Refused"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


class ImportBatch(models.Model):
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_batches"
    )
    bundle = models.FileField(upload_to="bundles/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    update_by_nino = models.BooleanField(default=False)
    update_by_email = models.BooleanField(default=False)
    create_new = models.BooleanField(default=False)

    status = models.CharField(
        max_length=12, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    phase = models.CharField(max_length=100, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by running work; an import whose heartbeat stopped (its worker
    # died) may be claimed again after the stale-lock timeout.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    archive_errors = models.JSONField(default=list, blank=True)
    skipped_entries = models.JSONField(default=list, blank=True)

    total_rows = models.PositiveIntegerField(default=0)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    conflict_count = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in BatchStatus]),
                name="batch_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.file_name} ({self.created_at:%d %b %Y %H:%M})"
            if self.created_at
            else self.file_name
        )

    @property
    def options_display(self) -> str:
        options = []
        if self.update_by_nino:
            options.append("Update by NINO")
        if self.update_by_email:
            options.append("Update by email")
        if self.create_new:
            options.append("Create new")
        return ", ".join(options)

    @property
    def is_busy(self) -> bool:
        return self.status in (BatchStatus.QUEUED, BatchStatus.VALIDATING, BatchStatus.IMPORTING)

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))


class BatchFile(models.Model):
    """One CSV file of a bundle, with its file-level errors and warnings."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1000)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=5, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    rejected = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.path


class RowStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class RowAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    UNCHANGED = "unchanged", "Unchanged"


class RowResult(models.TextChoices):
    CREATED = "created", "Created"
    APPLIED = "applied", "Updated (applied)"
    PENDING = "pending", "Updated (pending)"
    UNCHANGED = "unchanged", "Unchanged"
    CONFLICT = "conflict", "Not imported (conflict at commit)"


class StagedRow(PrapData):
    """One data row of a bundle as validated: normalised values, status and action.

    Staged rows are working data, written a hundred thousand at a time and
    deleted with their batch: their foreign keys are not checked by the database,
    since a check costs a look-up per row. Django still follows ``on_delete``.
    """

    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    file = models.ForeignKey(
        BatchFile,
        on_delete=models.CASCADE,
        related_name="staged_rows",
        db_index=False,
        db_constraint=False,
    )
    line = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RowStatus.choices)
    action = models.CharField(max_length=10, choices=RowAction.choices, blank=True)
    matched_participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The username a row that creates a person will give them.
    planned_username = models.CharField(max_length=150, blank=True)
    # The digest of the record as the file held it, kept when no field rule
    # found fault with it and the row was accepted: see PrapVersion.source_hash.
    source_hash = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]
        # One index on purpose: every one is written for each of a bundle's rows.
        # The bundle-wide duplicate checks group the batch's rows in one pass.
        indexes = [models.Index(fields=["batch", "status"], name="staged_batch_status_idx")]

    def __str__(self) -> str:
        return f"{self.file.path}:{self.line}"

    @property
    def action_or_result(self) -> str:
        """What the report shows for the row: its result once imported, else its action."""
        try:
            return self.outcome.get_result_display()
        except RowOutcome.DoesNotExist:
            return self.get_action_display()


class RowOutcome(models.Model):
    """What the commit did with one accepted staged row, and to whom.

    Kept apart from the staged row so that recording a hundred thousand results
    writes narrow new rows instead of rewriting every wide staged one.
    """

    row = models.OneToOneField(
        StagedRow,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="outcome",
        db_constraint=False,
    )
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="outcomes",
        db_index=False,
        db_constraint=False,
    )
    result = models.CharField(max_length=10, choices=RowResult.choices)
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    username = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["batch", "result"], name="outcome_batch_result_idx")]

    def __str__(self) -> str:
        return f"{self.row_id}: {self.result}"


class RowIssue(models.Model):
    """An error or warning on a staged row (codes from spec §5).

    Working data like the staged rows: its foreign keys are not checked by the database.
    """

    class Severity(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"

    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="row_issues",
        db_index=False,
        db_constraint=False,
    )
    row = models.ForeignKey(
        StagedRow, on_delete=models.CASCADE, related_name="issues", db_constraint=False
    )
    severity = models.CharField(max_length=7, choices=Severity.choices)
    code = models.CharField(max_length=40)
    column = models.CharField(max_length=100, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["batch", "severity", "code"], name="issue_batch_code_idx")]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
