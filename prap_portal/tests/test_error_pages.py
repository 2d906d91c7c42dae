"""The pages people see when something goes wrong say what happened and what to do."""

from __future__ import annotations

import pytest
from django.template import loader
from django.test import Client, override_settings

from conftest import PASSWORD
from imports.models import ImportBatch
from imports.tests.bundles import upload


def _text(response: object) -> str:
    return response.content.decode()


def test_a_missing_page_says_so_and_offers_the_way_home(client: Client, importer: object) -> None:
    client.login(username="ivy", password=PASSWORD)
    response = client.get("/participants/999999/")
    assert response.status_code == 404
    content = _text(response)
    assert "<h1>Page not found</h1>" in content
    assert "check it is spelt correctly" in content
    assert 'href="/">Go to the home page</a>' in content
    assert "Participant matching query" not in content


def test_a_forbidden_page_names_the_permission_it_needs(client: Client, outsider: object) -> None:
    client.login(username="otto", password=PASSWORD)
    response = client.get("/imports/")
    assert response.status_code == 403
    content = _text(response)
    assert "<h1>You can't do that with your role</h1>" in content
    assert "Importing PRaP files needs the Create users permission." in content
    assert "give you the role you need" in content


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="prap_portal.tests.error_urls")
def test_a_server_error_apologises_without_showing_the_fault() -> None:
    response = Client(raise_request_exception=False).get("/fails/")
    assert response.status_code == 500
    content = _text(response)
    assert "Sorry, something went wrong on our side" in content
    assert "Wait a minute and try again." in content
    assert "a fault the page must not show" not in content
    assert "RuntimeError" not in content


def test_the_server_error_page_renders_without_a_request_or_database() -> None:
    # No django_db mark: any query here would fail the test.
    content = loader.get_template("500.html").render()
    assert "Sorry, something went wrong on our side" in content
    assert "/static/css/app.css" in content


def test_an_expired_form_explains_itself(client: Client, importer: object) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.login(username="ivy", password=PASSWORD)
    response = csrf_client.post("/imports/", {})
    assert response.status_code == 403
    content = _text(response)
    assert "That form had expired" in content
    assert "reload the page and send the form again" in content


def test_a_refused_upload_says_nothing_was_stored_and_what_to_do(
    client: Client, importer: object, django_capture_on_commit_callbacks: object
) -> None:
    client.login(username="ivy", password=PASSWORD)
    not_a_zip = upload(b"this is not a zip", "referrals.zip")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/imports/", {"create_new": "on", "bundle": not_a_zip})
    response = client.get(f"/imports/{ImportBatch.objects.get().pk}/")
    content = _text(response)
    assert "<h1>Upload refused</h1>" in content
    assert "Nothing from it was stored and no one's records were changed." in content
    assert "<h2>What you can do</h2>" in content
    assert "Upload another file</a>" in content
