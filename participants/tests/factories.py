"""Small helpers for building PRaP versions in tests."""

from __future__ import annotations

from participants.models import Participant, PrapVersion, VersionStatus


def add_version(
    participant: Participant,
    *,
    number: int = 2,
    status: str = VersionStatus.PENDING,
    extra: dict | None = None,
    **changes: object,
) -> PrapVersion:
    """A new version of a participant's data: the applied values with ``changes``."""
    applied = participant.versions.get(status=VersionStatus.APPLIED)
    values = {**applied.prap_values(), **changes}
    return PrapVersion.objects.create(
        participant=participant,
        number=number,
        status=status,
        extra=applied.extra if extra is None else extra,
        data_hash=f"hash-{participant.pk}-{number}",
        **values,
    )
