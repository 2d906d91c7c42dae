"""Validate, and optionally import, a PRaP bundle from the command line."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from imports import selectors, services
from imports.models import BatchStatus, ImportBatch
from imports.reports import batch_report
from participants.models import User
from prap_portal.spreadsheet import csv_lines

EXIT_REFUSED = 2


class Command(BaseCommand):
    help = "Validate a PRaP bundle (a zip of CSV files); with --commit, import its accepted rows."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("bundle", type=Path)
        parser.add_argument(
            "--update-by",
            default="",
            help="Comma-separated keys that may update existing records: nino, email.",
        )
        parser.add_argument(
            "--create", action="store_true", help="Create new records as prospects."
        )
        parser.add_argument("--commit", action="store_true", help="Import the accepted rows.")
        parser.add_argument(
            "--user", help="Username recorded as the importer (default: first superuser)."
        )
        parser.add_argument(
            "--report-json", type=Path, help="Write the validation report as JSON here."
        )
        parser.add_argument("--errors-csv", type=Path, help="Write the errors as CSV here.")

    def handle(self, *args: object, **options: object) -> None:
        bundle: Path = options["bundle"]
        if not bundle.is_file():
            raise CommandError(f"No such file: {bundle}")
        keys = {k.strip().lower() for k in str(options["update_by"]).split(",") if k.strip()}
        unknown = keys - {"nino", "email"}
        if unknown:
            raise CommandError(
                f"--update-by takes nino and email, not {', '.join(sorted(unknown))}."
            )
        if not keys and not options["create"]:
            raise CommandError(
                "Say what the import may do: --update-by nino,email and/or --create."
            )
        user = self._user(options["user"])

        with bundle.open("rb") as handle:
            batch = services.batch_create(
                uploaded_by=user,
                upload=File(handle, name=bundle.name),
                update_by_nino="nino" in keys,
                update_by_email="email" in keys,
                create_new=bool(options["create"]),
            )
        batch = services.batch_validate(batch=batch)
        if options["report_json"]:
            options["report_json"].write_text(
                json.dumps(batch_report(batch), indent=2), encoding="utf-8"
            )
        if options["errors_csv"]:
            with options["errors_csv"].open("w", encoding="utf-8", newline="") as out:
                out.writelines(
                    csv_lines(selectors.ERROR_HEADER, selectors.batch_error_lines(batch))
                )

        if batch.status == BatchStatus.REFUSED:
            for error in batch.archive_errors:
                self.stderr.write(f"Refused ({error['code']}): {error['message']}")
            raise SystemExit(EXIT_REFUSED)
        self.stdout.write(
            f"Batch {batch.pk}: {batch.accepted_count} accepted, {batch.rejected_count} rejected"
        )
        if options["commit"]:
            self._commit(batch, user)

    def _commit(self, batch: ImportBatch, user: User) -> None:
        try:
            batch = services.batch_claim_commit(batch=batch, user=user)
            batch = services.batch_commit(batch=batch)
        except services.CommitRefused as refusal:
            raise CommandError(refusal.message) from None
        self.stdout.write(
            f"Imported: {batch.created_count} created, {batch.updated_count} updated "
            f"({batch.pending_count} pending), {batch.unchanged_count} unchanged, "
            f"{batch.conflict_count} not imported after a conflict"
        )

    def _user(self, username: object) -> User:
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist:
                raise CommandError(f"No user named {username}.") from None
        user = User.objects.filter(is_superuser=True).order_by("id").first()
        if user is None:
            raise CommandError("No superuser to record as the importer; pass --user.")
        return user
