"""Delete uploaded bundles and staged rows of old import batches, keeping their summary."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.retention import batches_purge


class Command(BaseCommand):
    help = (
        "Delete the uploaded bundle, files, staged rows and issues of import batches older "
        "than the retention age (PRAP_RETENTION_DAYS, 30 days by default); their summary stays."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Purge batches older than this many days (default: PRAP_RETENTION_DAYS).",
        )

    def handle(self, *args: object, days: int | None = None, **options: object) -> None:
        days = settings.PRAP_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        purged = batches_purge(older_than=datetime.timedelta(days=days))
        self.stdout.write(
            f"Purged {purged} import batch{'es' if purged != 1 else ''} older than {days} days."
        )
