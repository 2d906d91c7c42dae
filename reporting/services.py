"""Writes of the reporting app: feed tokens and saved reports."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from participants.models import AccessLog, User
from reporting.models import FeedToken, SavedReport

TOKEN_PREFIX = "prap_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_token_create(*, user: User, name: str) -> tuple[FeedToken, str]:
    """Make a new feed token for ``user``; returns it and the secret, shown only now."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = FeedToken.objects.create(
        user=user,
        name=name.strip(),
        token_hash=hash_token(secret),
        hint=secret[: len(TOKEN_PREFIX) + 4],
    )
    return token, secret


def feed_token_revoke(*, token: FeedToken) -> None:
    """Stop a token from working; the row stays so its last use can still be seen."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def feed_token_authenticate(*, secret: str) -> User | None:
    """The active user whose live token this is (recording its use), or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        FeedToken.objects.select_related("user")
        .filter(token_hash=hash_token(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    FeedToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def access_log_record(*, user: User, action: str, detail: str) -> None:
    """Note in the access log that ``user`` read personal data in bulk."""
    AccessLog.objects.create(user=user, participant=None, action=action, detail=detail[:500])


@transaction.atomic
def report_save(*, owner: User, name: str, definition: dict, shared: bool) -> SavedReport:
    """Save a report definition under ``name``, replacing the owner's report of that name."""
    report, _ = SavedReport.objects.update_or_create(
        owner=owner, name=name.strip(), defaults={"definition": definition, "shared": shared}
    )
    return report


def report_set_shared(*, report: SavedReport, shared: bool) -> None:
    report.shared = shared
    report.save(update_fields=["shared", "updated_at"])


def report_delete(*, report: SavedReport) -> None:
    report.delete()
