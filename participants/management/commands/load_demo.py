"""A demo administrator holding every role, and sample people from a sample bundle."""

from __future__ import annotations

import secrets
from argparse import ArgumentParser
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand

from imports import services
from participants import roles
from participants.models import Kind, Participant, User

DEMO_USERNAME = "admin"
DEMO_PEOPLE = Path(settings.BASE_DIR) / "samples" / "demo-people.zip"


class Command(BaseCommand):
    help = "Create (or reset) the demo admin and load sample people once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--password", help="Password for the demo admin (default: a new random one)."
        )

    def handle(self, *args: object, **options: object) -> None:
        password = options["password"] or secrets.token_urlsafe(12)
        admin, _ = User.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={
                "first_name": "Demo",
                "last_name": "Administrator",
                "email": "admin@prap-portal.local",
            },
        )
        admin.kind = Kind.STAFF
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        admin.groups.set(Group.objects.filter(name__in=roles.ROLES))

        if not Participant.objects.exists() and DEMO_PEOPLE.exists():
            with DEMO_PEOPLE.open("rb") as handle:
                batch = services.batch_create(
                    uploaded_by=admin,
                    upload=File(handle, name=DEMO_PEOPLE.name),
                    update_by_nino=False,
                    update_by_email=False,
                    create_new=True,
                )
            services.batch_validate(batch=batch)
            services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=admin))
            self.stdout.write(f"Loaded {batch.created_count} sample people.")

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin: username '{DEMO_USERNAME}', password '{password}'. "
                "Sign in at http://127.0.0.1:8000/ and import samples/prap-sample.zip."
            )
        )
