"""The PRaP data fields as reporting sees them: label, section, type and path.

The feed and the report builder both read from the applied (or any) PRaP
version, so both take the per-field facts from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import models

from imports.pipeline.columns import COLUMNS_BY_FIELD, CONTACT
from participants.models import PrapVersion

# OData primitive types used by the feed (and to type report cells).
STRING = "Edm.String"
DATE = "Edm.Date"
DATETIME = "Edm.DateTimeOffset"
BOOLEAN = "Edm.Boolean"
INT64 = "Edm.Int64"


@dataclass(frozen=True)
class PrapField:
    """One column of PRaP data on ``PrapVersion``."""

    field: str  # model field name
    label: str  # canonical column name
    section: str
    edm: str
    nullable: bool

    @property
    def odata_name(self) -> str:
        return odata_name(self.label)

    @property
    def is_nino(self) -> bool:
        return self.field == "nino"


def odata_name(label: str) -> str:
    """``Date of Birth`` -> ``DateOfBirth``; ``Telephone (E.164)`` -> ``TelephoneE164``."""
    return "".join(w[0].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", label) if w)


def edm_type(field: models.Field) -> str:
    if isinstance(field, models.DateTimeField):
        return DATETIME
    if isinstance(field, models.DateField):
        return DATE
    if isinstance(field, models.BooleanField):
        return BOOLEAN
    if isinstance(field, models.IntegerField | models.ForeignKey):
        return INT64
    return STRING


def _prap_fields() -> tuple[PrapField, ...]:
    result = []
    for name in PrapVersion.DATA_FIELDS:
        model_field = PrapVersion._meta.get_field(name)
        column = COLUMNS_BY_FIELD.get(name)
        result.append(
            PrapField(
                field=name,
                label=column.name if column else str(model_field.verbose_name),
                section=column.section if column else CONTACT,
                edm=edm_type(model_field),
                nullable=model_field.null,
            )
        )
    return tuple(result)


PRAP_FIELDS: tuple[PrapField, ...] = _prap_fields()


@dataclass(frozen=True)
class ReportField:
    """A column a person can add to a report, read from the applied PRaP version."""

    key: str
    label: str
    group: str
    path: str
    edm: str
    nino: bool = False


STATUS_GROUP = "Status"
VERSION_GROUP = "Version"
BATCH_GROUP = "Batch"

REPORT_FIELDS: tuple[ReportField, ...] = (
    *(ReportField(f.field, f.label, f.section, f.field, f.edm, f.is_nino) for f in PRAP_FIELDS),
    ReportField("username", "Username", STATUS_GROUP, "participant__user__username", STRING),
    ReportField("status", "Status", STATUS_GROUP, "participant__user__kind", STRING),
    ReportField(
        "has_pending_version", "Has pending version", STATUS_GROUP, "has_pending_version", BOOLEAN
    ),
    ReportField("version_number", "Version number", VERSION_GROUP, "number", INT64),
    ReportField("version_created_at", "Version created", VERSION_GROUP, "created_at", DATETIME),
    ReportField("version_decided_at", "Version decided", VERSION_GROUP, "decided_at", DATETIME),
    ReportField("batch_id", "Batch number", BATCH_GROUP, "batch_id", INT64),
    ReportField("batch_file_name", "Batch file", BATCH_GROUP, "batch__file_name", STRING),
    ReportField(
        "batch_committed_at", "Batch imported", BATCH_GROUP, "batch__committed_at", DATETIME
    ),
)
REPORT_FIELDS_BY_KEY: dict[str, ReportField] = {f.key: f for f in REPORT_FIELDS}
REPORT_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(f.group for f in REPORT_FIELDS))
DEFAULT_REPORT_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "nino",
    "po_number",
    "programme",
    "contract",
    "referral_date",
    "status",
)
