"""National Insurance number display rules (spec §6.1). Plain functions, no Django.

A NINO is stored normalised (``QQ123456C``), shown grouped (``QQ 12 34 56 C``)
and masked wherever the full number is not needed (``QQ •• •• 56 C``).
"""

from __future__ import annotations

import re

MASK = "••"

# What a person may type while searching: the start of a NINO, in any case,
# with or without spaces. Two letters then digits, or a whole NINO.
_SEARCH_PREFIX = re.compile(r"^[A-Z]{2}[0-9]{1,6}$|^[A-Z]{2}[0-9]{6}[A-D]?$")


def nino_normalise(text: str) -> str:
    """Upper case without any white space: ``qq 12 34 56 c`` becomes ``QQ123456C``."""
    return "".join(text.split()).upper()


def _parts(nino: str) -> tuple[str, str, str, str, str]:
    value = nino_normalise(nino)
    return value[:2], value[2:4], value[4:6], value[6:8], value[8:]


def nino_display(nino: str) -> str:
    """The grouped form, ``QQ 12 34 56 C``; empty for an empty value."""
    if not nino:
        return ""
    return " ".join(p for p in _parts(nino) if p)


def nino_mask(nino: str) -> str:
    """The masked form, ``QQ •• •• 56 C`` (``QQ •• •• 56`` without a suffix).

    Only the prefix letters, the last two digits and the suffix stay visible.
    A value too short to be a NINO is masked whole.
    """
    value = nino_normalise(nino)
    if not value:
        return ""
    if len(value) < 8:
        return MASK
    prefix, _, _, last, suffix = _parts(value)
    return " ".join(p for p in (prefix, MASK, MASK, last, suffix) if p)


def nino_search_prefix(text: str) -> str | None:
    """The normalised NINO (or its start) a search text stands for, else ``None``.

    At least one digit must follow the two letters, so a short name such as
    ``Al`` is not mistaken for a NINO prefix.
    """
    value = nino_normalise(text)
    return value if _SEARCH_PREFIX.match(value) else None
