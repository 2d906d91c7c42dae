"""A stable digest of one person's PRaP data, to tell unchanged data from new."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping

_SEPARATOR = "\x1f"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def data_digest(values: Mapping[str, object], fields: Iterable[str], extra: Mapping[str, str]) -> str:
    """SHA-256 over the normalised fields, in the given order, and the extra columns.

    Missing values and empty text digest alike, so a column absent from one file
    and empty in another count as the same data.
    """
    parts = [_text(values.get(field)) for field in fields]
    parts.append(json.dumps({k: v for k, v in extra.items() if v}, sort_keys=True))
    return hashlib.sha256(_SEPARATOR.join(parts).encode("utf-8")).hexdigest()
