"""Sign-in throttling: repeated failures for one username or one address lock it out a while.

Counts live in Django's cache. With several web processes the cache must be
shared (``CACHE_URL=redis://...``), or each process counts on its own. The
address is ``REMOTE_ADDR``: behind a proxy, the proxy must pass the client's
address there, or every sign-in shares the proxy's count.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(kind: str, value: str) -> tuple[str, str]:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}", f"login-locked:{kind}:{digest}"


def _subjects(username: str, address: str) -> list[tuple[str, str]]:
    subjects = [("user", username)] if username.strip() else []
    if address:
        subjects.append(("addr", address))
    return subjects


def login_locked(*, username: str, address: str) -> bool:
    """Whether sign-in attempts for this username or from this address are refused now."""
    return any(cache.get(_keys(kind, value)[1]) for kind, value in _subjects(username, address))


def login_failed(*, username: str, address: str) -> None:
    """Count a failed sign-in; the failure that reaches the limit starts the lockout."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    for kind, value in _subjects(username, address):
        count_key, lock_key = _keys(kind, value)
        cache.add(count_key, 0, timeout=window)
        try:
            failures = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=window)
            failures = 1
        if failures >= settings.LOGIN_MAX_FAILURES:
            cache.set(lock_key, True, timeout=settings.LOGIN_LOCKOUT_SECONDS)
            cache.delete(count_key)


def login_succeeded(*, username: str) -> None:
    """Forget the username's failures after a good sign-in (the address's count stays)."""
    cache.delete(_keys("user", username)[0])


def lockout_message() -> str:
    minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
    return (
        f"Too many failed sign-in attempts. Wait {minutes} minutes and try again, "
        "or ask an administrator to reset your password."
    )
