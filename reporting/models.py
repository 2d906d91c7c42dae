"""Reporting: feed tokens for the OData feed, and reports that staff save by name."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FeedToken(models.Model):
    """A secret a person gives Power BI or Excel to read the OData feed as them.

    Only a SHA-256 digest of the secret is stored; the secret is shown once,
    when the token is created.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the secret, so a person can tell their tokens apart.
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("use_odata_feed", "Read PRaP data through the OData feed")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SavedReport(models.Model):
    """A report definition (fields, filters, sort) saved by name to run again."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_reports"
    )
    name = models.CharField(max_length=100)
    definition = models.JSONField(default=dict)
    shared = models.BooleanField(
        default=False, help_text="Shared reports can be run by all staff who build reports."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("build_reports", "Build, save and export reports")]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="report_name_unique_per_owner")
        ]

    def __str__(self) -> str:
        return self.name
