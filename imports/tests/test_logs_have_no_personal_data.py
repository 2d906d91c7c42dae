"""Application logs never carry a person's NINO, email or name, whatever the import meets."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from imports import services
from imports.models import BatchStatus, ImportBatch
from participants.models import Participant

from .bundles import HEADER, csv_bytes, row, zip_bytes
from .test_views import signed_in

PEOPLE = [
    row(1, First_Name="Zebedee", Last_Name="Quasimodo", National_Insurance_Number="JT 12 34 56 A",
        Email_Address="Zebedee.Q@Example.org"),
    row(2, First_Name="Philomena", Last_Name="Thistlewood", National_Insurance_Number="JT654321B",
        Email_Address="phil.thistle@example.org"),
    # Rejected rows: their values appear in errors, never in logs.
    row(3, First_Name="Ottoline", Last_Name="Brackenbury", National_Insurance_Number="JT111111C",
        Email_Address="otto.b@example", Postcode="XX1"),
    row(4, First_Name="Ignatius", Last_Name="", National_Insurance_Number="JT222222D",
        Email_Address="iggy@example.org"),
]  # fmt: skip
SECRETS = [
    "Zebedee", "Quasimodo", "JT123456A", "JT 12 34 56 A", "JT 12 34 56 A".replace(" ", ""),
    "zebedee.q@example.org", "Zebedee.Q@Example.org", "Philomena", "Thistlewood", "JT654321B",
    "phil.thistle@example.org", "Ottoline", "Brackenbury", "JT111111C", "otto.b@example",
    "Ignatius", "JT222222D", "iggy@example.org",
]  # fmt: skip

_FAIL_SQL = {
    "sqlite": (
        "CREATE TRIGGER h6_refuse_people BEFORE INSERT ON participants_participant "
        "BEGIN SELECT * FROM no_such_table_for_this_test; END",
        "DROP TRIGGER h6_refuse_people",
    ),
    "postgresql": (
        "CREATE FUNCTION h6_refuse_people() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$; "
        "CREATE TRIGGER h6_refuse_people BEFORE INSERT ON participants_participant "
        "FOR EACH ROW EXECUTE FUNCTION h6_refuse_people()",
        "DROP TRIGGER h6_refuse_people ON participants_participant; DROP FUNCTION h6_refuse_people()",
    ),
}


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger of the project and Django
    return caplog


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a handler would write it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_a_full_import_with_a_failing_commit_logs_no_personal_data(importer, all_logs):
    if connection.vendor not in _FAIL_SQL:
        pytest.skip("no failing-insert trigger for this database")
    client = signed_in(importer)
    header = [*HEADER]
    content = zip_bytes({"Quasimodo referrals.csv": csv_bytes(PEOPLE, header=header)})
    client.post(
        reverse("imports-upload"),
        {"bundle": _upload(content), "create_new": "on", "update_by_nino": "on"},
    )
    batch = ImportBatch.objects.get()
    assert (batch.accepted_count, batch.rejected_count) == (2, 2)
    client.get(reverse("imports-batch", args=[batch.pk]))
    b"".join(client.get(reverse("imports-errors-csv", args=[batch.pk])).streaming_content)

    # The commit fails inside the database: it is logged with where it failed.
    create, drop = _FAIL_SQL[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(create)
    with pytest.raises(Exception):  # noqa: B017 - whatever the database raised
        services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=importer))
    with connection.cursor() as cursor:
        cursor.execute(drop)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert any(
        r.name == "imports.services" and "commit_rows" in r.getMessage() for r in all_logs.records
    )

    # Then it is committed again through the wizard, and the people are seen.
    client.post(reverse("imports-commit", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IMPORTED
    b"".join(client.get(reverse("imports-successes-csv", args=[batch.pk])).streaming_content)
    person = Participant.objects.get(nino="JT123456A")
    viewer = signed_in(importer)
    viewer.get(reverse("participants-prap", args=[person.pk]))
    viewer.get(reverse("participants-list"), {"q": "Quasimodo"})

    text = log_text(all_logs)
    assert "Commit of batch" in text  # the logs were captured
    leaked = [secret for secret in SECRETS if secret.lower() in text.lower()]
    assert leaked == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL error texts")
def test_a_database_error_quoting_the_row_is_not_logged_with_its_text(importer, validate, all_logs):
    batch = validate(zip_bytes({"a.csv": csv_bytes(PEOPLE[:1])}))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION h6_quote_row() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'invalid input syntax for type integer: \"%\"', NEW.nino "
            "USING ERRCODE = '22P02'; END $$; "
            "CREATE TRIGGER h6_quote_row BEFORE INSERT ON participants_participant "
            "FOR EACH ROW EXECUTE FUNCTION h6_quote_row()"
        )
    with pytest.raises(Exception):  # noqa: B017 - whatever the database raised
        services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=importer))
    assert "Commit of batch" in log_text(all_logs)
    assert "JT123456A" not in log_text(all_logs)


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("bundle.zip", content, content_type="application/zip")
