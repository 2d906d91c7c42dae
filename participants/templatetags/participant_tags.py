"""Template helpers for showing people: avatars and NINOs."""

from __future__ import annotations

import hashlib

from django import template

from participants.models import User
from participants.nino import nino_mask

register = template.Library()


def avatar_hue(name: str) -> int:
    """A hue from 0 to 359 derived from a name, so a person keeps their colour."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 360


@register.inclusion_tag("participants/_avatar.html")
def avatar(person: User, size: str = "large") -> dict[str, object]:
    """The uploaded image where there is one, else initials on a colour from the name."""
    return {
        "person": person,
        "size": size,
        "hue": avatar_hue(person.get_full_name() or person.username),
    }


@register.filter
def masked_nino(value: str) -> str:
    return nino_mask(value)
