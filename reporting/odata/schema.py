"""The feed's entity sets: their properties, types, and where each value comes from.

Each entity set reads one query (no per-row queries) and exposes an allow-list
of properties; nothing outside the list can be selected, filtered or sorted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from imports.models import ImportBatch
from participants.models import PrapVersion, VersionStatus
from reporting.fields import BOOLEAN, DATETIME, INT64, PRAP_FIELDS, STRING

NAMESPACE = "PrapPortal"
EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"


@dataclass(frozen=True)
class Prop:
    name: str  # OData property name
    edm: str
    path: str  # Django lookup path (or annotation) on the entity set's query
    nullable: bool = False
    nino: bool = False  # masked for people who may not reveal NINOs


@dataclass(frozen=True)
class EntitySet:
    name: str
    type_name: str
    key: Prop
    props: tuple[Prop, ...]
    queryset: Callable[[], QuerySet]

    @property
    def by_name(self) -> dict[str, Prop]:
        return {p.name: p for p in self.props}


def _prap_props() -> tuple[Prop, ...]:
    return tuple(
        Prop(f.odata_name, f.edm, f.field, nullable=f.nullable, nino=f.is_nino) for f in PRAP_FIELDS
    )


def _participants() -> QuerySet:
    pending = PrapVersion.objects.filter(
        participant_id=OuterRef("participant_id"), status=VersionStatus.PENDING
    )
    return (
        PrapVersion.objects.filter(status=VersionStatus.APPLIED)
        .annotate(has_pending_version=Exists(pending))
        .order_by()
    )


def _versions() -> QuerySet:
    return PrapVersion.objects.order_by()


def _batches() -> QuerySet:
    return ImportBatch.objects.order_by()


_PARTICIPANT_KEY = Prop("Id", INT64, "participant_id")
_VERSION_KEY = Prop("Id", INT64, "id")
_BATCH_KEY = Prop("Id", INT64, "id")

PARTICIPANTS = EntitySet(
    name="Participants",
    type_name="Participant",
    key=_PARTICIPANT_KEY,
    props=(
        _PARTICIPANT_KEY,
        Prop("Username", STRING, "participant__user__username"),
        Prop("Status", STRING, "participant__user__kind"),
        Prop("HasPendingVersion", BOOLEAN, "has_pending_version"),
        Prop("VersionNumber", INT64, "number"),
        Prop("BatchId", INT64, "batch_id", nullable=True),
        Prop("CreatedAt", DATETIME, "participant__created_at"),
        Prop("UpdatedAt", DATETIME, "participant__updated_at"),
        *_prap_props(),
    ),
    queryset=_participants,
)

PRAP_VERSIONS = EntitySet(
    name="PrapVersions",
    type_name="PrapVersion",
    key=_VERSION_KEY,
    props=(
        _VERSION_KEY,
        Prop("ParticipantId", INT64, "participant_id"),
        Prop("VersionNumber", INT64, "number"),
        Prop("VersionStatus", STRING, "status"),
        Prop("BatchId", INT64, "batch_id", nullable=True),
        Prop("SourceFile", STRING, "source_file"),
        Prop("SourceLine", INT64, "source_line", nullable=True),
        Prop("CreatedAt", DATETIME, "created_at"),
        Prop("DecidedAt", DATETIME, "decided_at", nullable=True),
        *_prap_props(),
    ),
    queryset=_versions,
)

IMPORT_BATCHES = EntitySet(
    name="ImportBatches",
    type_name="ImportBatch",
    key=_BATCH_KEY,
    props=(
        _BATCH_KEY,
        Prop("FileName", STRING, "file_name"),
        Prop("FileSize", INT64, "file_size"),
        Prop("Status", STRING, "status"),
        Prop("UploadedBy", STRING, "uploaded_by__username"),
        Prop("UpdateByNino", BOOLEAN, "update_by_nino"),
        Prop("UpdateByEmail", BOOLEAN, "update_by_email"),
        Prop("CreateNew", BOOLEAN, "create_new"),
        Prop("TotalRows", INT64, "total_rows"),
        Prop("AcceptedCount", INT64, "accepted_count"),
        Prop("RejectedCount", INT64, "rejected_count"),
        Prop("CreatedCount", INT64, "created_count"),
        Prop("UpdatedCount", INT64, "updated_count"),
        Prop("PendingCount", INT64, "pending_count"),
        Prop("UnchangedCount", INT64, "unchanged_count"),
        Prop("ConflictCount", INT64, "conflict_count"),
        Prop("CreatedAt", DATETIME, "created_at"),
        Prop("ValidatedAt", DATETIME, "validated_at", nullable=True),
        Prop("CommittedAt", DATETIME, "committed_at", nullable=True),
        Prop("PurgedAt", DATETIME, "purged_at", nullable=True),
    ),
    queryset=_batches,
)

ENTITY_SETS: dict[str, EntitySet] = {
    s.name: s for s in (PARTICIPANTS, PRAP_VERSIONS, IMPORT_BATCHES)
}


def metadata_xml() -> bytes:
    """The CSDL XML document (Power Query reads XML metadata, not JSON)."""
    ET.register_namespace("edmx", EDMX_NS)
    root = ET.Element(f"{{{EDMX_NS}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(root, f"{{{EDMX_NS}}}DataServices")
    schema = ET.SubElement(services, "Schema", {"xmlns": EDM_NS, "Namespace": NAMESPACE})
    for entity_set in ENTITY_SETS.values():
        entity_type = ET.SubElement(schema, "EntityType", {"Name": entity_set.type_name})
        key = ET.SubElement(entity_type, "Key")
        ET.SubElement(key, "PropertyRef", {"Name": entity_set.key.name})
        for prop in entity_set.props:
            ET.SubElement(
                entity_type,
                "Property",
                {
                    "Name": prop.name,
                    "Type": prop.edm,
                    "Nullable": "true" if prop.nullable else "false",
                },
            )
    container = ET.SubElement(schema, "EntityContainer", {"Name": "Container"})
    for entity_set in ENTITY_SETS.values():
        ET.SubElement(
            container,
            "EntitySet",
            {"Name": entity_set.name, "EntityType": f"{NAMESPACE}.{entity_set.type_name}"},
        )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
