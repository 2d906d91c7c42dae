"""Stable digests, to tell unchanged data from new.

Two kinds: the digest of one person's PRaP data as the rules normalised it,
and the digest of a record as the file held it (its source), which finds a
record imported before without validating it again.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

_SEPARATOR = "\x1f"

# Part of every source digest. Change it when a field rule or the normalisation
# changes: records imported under the old rules are then validated afresh.
SOURCE_RULES_REVISION = "1"


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


def source_hashes(columns: Sequence[str], records: Iterable[Sequence[str]]) -> list[str]:
    """Per record, a digest of its cells exactly as parsed, with what each column is.

    ``columns`` names each column of the file: its contract field, or its header
    when the contract does not know it. The cells are joined with NUL; a record
    holding a NUL of its own gets no digest (""), so two different records of
    one file never join to the same text.
    """
    prefix = hashlib.blake2b(digest_size=16)
    prefix.update(_SEPARATOR.join((SOURCE_RULES_REVISION, *columns)).encode("utf-8") + b"\0\0")
    separators = len(columns) - 1
    hashes = []
    for cells in records:
        joined = "\0".join(cells)
        if joined.count("\0") != separators:
            hashes.append("")
            continue
        digest = prefix.copy()
        digest.update(joined.encode("utf-8"))
        hashes.append(digest.hexdigest())
    return hashes
