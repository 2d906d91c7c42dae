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
    """A whole column of dates or flags as the text the digest reads, one entry per row."""
    # Such columns repeat a few values many times: each is turned to text once.
    return list(map(_Texts().__getitem__, values))


class _Texts(dict[object, str]):
    """The digest's text of each value, worked out the first time it is asked for."""

    def __missing__(self, value: object) -> str:
        text = self[value] = _text(value)
        return text


def digests(columns: Sequence[Sequence[str]], extras: Sequence[str]) -> list[str]:
    """Row digests from columns already turned to text, with each row's extra JSON."""
    rows = map(_SEPARATOR.join, zip(*columns, extras, strict=True))
    return [hashlib.sha256(row.encode("utf-8")).hexdigest() for row in rows]
