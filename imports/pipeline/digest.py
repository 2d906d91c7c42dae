"""A stable digest of one person's PRaP data, to tell unchanged data from new."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

_SEPARATOR = "\x1f"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def extra_text(extra: Mapping[str, str]) -> str:
    """Extra columns as canonical JSON text: what is stored and what is digested."""
    return json.dumps({k: v for k, v in extra.items() if v}, sort_keys=True, ensure_ascii=False)


def column_texts(values: Iterable[object]) -> list[str]:
    """A whole column as the text the digest reads, one entry per row."""
    return [_text(value) for value in values]


def digests(columns: Sequence[Sequence[str]], extras: Sequence[str]) -> list[str]:
    """Row digests from columns already turned to text, with each row's extra JSON."""
    return [
        hashlib.sha256(_SEPARATOR.join(parts).encode("utf-8")).hexdigest()
        for parts in zip(*columns, extras, strict=True)
    ]
