"""The wizard in the browser's terms: pages, downloads and who may use them."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PASSWORD
from imports.models import ImportBatch
from participants.models import Participant

from .bundles import bundle_of, row, upload


class InlineClient(Client):
    """Runs the work a view queued for after its transaction, as the request ends.

    Tests run inside a transaction that never commits, so without this the
    queued validation and commit (inline, no broker) would never start.
    """

    def request(self, **request: object):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def signed_in(user) -> Client:
    client = InlineClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def post_bundle(client: Client, content: bytes, **options: bool):
    data = {"bundle": upload(content), **{k: "on" for k, v in options.items() if v}}
    return client.post(reverse("imports-upload"), data)


def test_navigation_shows_import_only_to_users_who_may_create_users(importer, supervisor):
    assert "Import PRaP files" in signed_in(importer).get("/").content.decode()
    assert "Import PRaP files" not in signed_in(supervisor).get("/").content.decode()


def test_the_whole_wizard_from_upload_to_successes_export(importer):
    client = signed_in(importer)
    response = post_bundle(client, bundle_of(row(1), row(2, Last_Name="")), create_new=True)
    batch = ImportBatch.objects.get()
    assert response.url == reverse("imports-batch", args=[batch.pk])

    report = client.get(response.url).content.decode()
    assert "Validation report" in report and "Import Accepted Records" in report
    assert "Last Name is required." in report

    errors = read_csv(client.get(reverse("imports-errors-csv", args=[batch.pk])))
    assert errors == [
        ["PO Number", "File", "Line", "Column", "Code", "Error"],
        ["PO-00002", "referrals.csv", "3", "Last Name", "field.required", "Last Name is required."],
    ]

    client.post(reverse("imports-commit", args=[batch.pk]))
    summary = client.get(reverse("imports-batch", args=[batch.pk])).content.decode()
    assert "Import summary" in summary and "Export successful records" in summary
    successes = read_csv(client.get(reverse("imports-successes-csv", args=[batch.pk])))
    assert successes == [
        ["PO Number", "Action", "Username", "First Name", "Last Name", "Email", "NINO"],
        [
            "PO-00001",
            "Created",
            "alice1@example.com",
            "Alice",
            "Adams1",
            "alice1@example.com",
            "QQ000001C",
        ],
    ]


def test_a_second_commit_request_is_told_the_batch_is_imported(importer):
    client = signed_in(importer)
    post_bundle(client, bundle_of(row(1)), create_new=True)
    batch = ImportBatch.objects.get()
    client.post(reverse("imports-commit", args=[batch.pk]))
    response = client.post(reverse("imports-commit", args=[batch.pk]), follow=True)
    assert "This batch has already been imported." in response.content.decode()
    assert Participant.objects.count() == 1


def test_the_import_needs_at_least_one_option(importer):
    response = post_bundle(signed_in(importer), bundle_of(row(1)))
    assert "Tick at least one thing the import may do." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_upload_over_the_limit_is_refused_before_it_is_read(importer, settings):
    settings.PRAP_MAX_UPLOAD_BYTES = 100
    response = post_bundle(signed_in(importer), bundle_of(row(1), row(2)), create_new=True)
    assert response.status_code == 413
    assert (
        "The file is larger than 100\xa0bytes, the most one upload may be."
        in response.content.decode()
    )
    assert not ImportBatch.objects.exists()


def test_the_report_filters_rejected_rows(importer):
    client = signed_in(importer)
    post_bundle(client, bundle_of(row(1), row(2, Last_Name="")), create_new=True)
    batch = ImportBatch.objects.get()
    page = client.get(reverse("imports-batch", args=[batch.pk]) + "?show=rejected").content.decode()
    assert "PO-00002" in page and "PO-00001" not in page


def test_progress_answers_json(importer):
    client = signed_in(importer)
    post_bundle(client, bundle_of(row(1)), create_new=True)
    batch = ImportBatch.objects.get()
    state = client.get(reverse("imports-progress", args=[batch.pk])).json()
    assert (state["status"], state["busy"]) == ("validated", False)


def test_history_lists_batches(importer):
    client = signed_in(importer)
    post_bundle(client, bundle_of(row(1)), create_new=True)
    page = client.get(reverse("imports-history")).content.decode()
    assert "bundle.zip" in page and "Create new" in page


@pytest.mark.parametrize("name", ["imports-upload", "imports-history"])
def test_pages_are_forbidden_without_create_users(outsider, supervisor, name):
    for user in (outsider, supervisor):
        assert signed_in(user).get(reverse(name)).status_code == 403


@pytest.mark.parametrize(
    "name", ["imports-batch", "imports-progress", "imports-errors-csv", "imports-successes-csv"]
)
def test_a_batch_is_not_found_for_users_without_create_users(importer, outsider, supervisor, name):
    post_bundle(signed_in(importer), bundle_of(row(1)), create_new=True)
    batch = ImportBatch.objects.get()
    for user in (outsider, supervisor):
        assert signed_in(user).get(reverse(name, args=[batch.pk])).status_code == 404
    assert signed_in(importer).get(reverse(name, args=[batch.pk + 1000])).status_code == 404


def test_commit_is_not_found_for_users_without_create_users(importer, outsider):
    post_bundle(signed_in(importer), bundle_of(row(1)), create_new=True)
    batch = ImportBatch.objects.get()
    assert signed_in(outsider).post(reverse("imports-commit", args=[batch.pk])).status_code == 404
    assert not Participant.objects.exists()


def test_anonymous_users_are_sent_to_sign_in(db):
    response = Client().get(reverse("imports-upload"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_report_runs_the_same_number_of_queries_however_many_rows(importer):
    client = signed_in(importer)
    counts = []
    for size in (3, 120):
        post_bundle(
            client, bundle_of(*(row(n, Last_Name="") for n in range(size))), create_new=True
        )
        batch = ImportBatch.objects.latest("id")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("imports-batch", args=[batch.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
