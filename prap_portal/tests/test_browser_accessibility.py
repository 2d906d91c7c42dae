"""axe-core, served from node_modules, finds no serious or critical problem on any main page."""

from __future__ import annotations

import pytest
from django.template import loader

from browser_testing import (
    needs_axe,
    needs_chromium,
    screenshot,
    serious_accessibility_violations,
    sign_in,
)
from conftest import PASSWORD, make_participant, make_staff
from imports.models import BatchStatus, ImportBatch
from imports.tests.bundles import bundle_of, row
from participants import roles
from participants.models import Kind
from participants.tests.factories import add_version

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    needs_axe,
    pytest.mark.django_db(transaction=True),
]


def _check(page: object, name: str, found: dict[str, list[str]]) -> None:
    page.wait_for_load_state("load")
    screenshot(page, name.replace(" ", "-"))
    problems = serious_accessibility_violations(page)
    if problems:
        found[name] = problems


def test_no_main_page_has_a_serious_accessibility_violation(live_server, browser, tmp_path) -> None:
    admin = make_staff("ada", *roles.ROLES)
    alice = make_participant(
        nino="QQ100001C", first_name="Alice", last_name="Adams", email="alice@example.com"
    )
    add_version(alice, town="York", last_name="Adams-Smith")
    lena = make_participant(
        nino="AB123456C", first_name="Lena", last_name="Learner", email="lena@example.com"
    )
    lena.user.kind = Kind.LEARNER
    lena.user.set_password(PASSWORD)
    lena.user.save()
    bundle = tmp_path / "referrals.zip"
    bundle.write_bytes(bundle_of(row(2), row(3), row(4, National_Insurance_Number="ZZ123456C")))
    busy = ImportBatch.objects.create(
        uploaded_by=admin,
        file_name="large.zip",
        status=BatchStatus.IMPORTING,
        phase="Writing people",
    )
    url = live_server.url
    found: dict[str, list[str]] = {}

    page = browser.new_page()
    page.goto(f"{url}/login/")
    _check(page, "login", found)
    sign_in(page, url, admin.username, PASSWORD)
    _check(page, "home", found)

    page.goto(f"{url}/imports/")
    page.get_by_label("Create new records as prospects").check()
    page.get_by_label("Zip of PRaP CSV files").set_input_files(str(bundle))
    _check(page, "upload", found)
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_role("heading", name="Validation report: referrals.zip").wait_for()
    _check(page, "validation report", found)
    page.get_by_role("button", name="Import Accepted Records").click()
    page.get_by_role("heading", name="Import summary: referrals.zip").wait_for()
    _check(page, "import summary", found)
    page.get_by_role("link", name="Import history", exact=True).first.click()
    _check(page, "import history", found)

    for name, path in [
        ("import progress", f"/imports/{busy.pk}/"),
        ("participants list", "/participants/"),
        ("PRaP Details", f"/participants/{alice.pk}/"),
        ("account and invitations", f"/participants/{alice.pk}/account/"),
        ("version history", f"/participants/{alice.pk}/versions/2/"),
        ("version notes", f"/participants/{alice.pk}/versions/2/notes/"),
        ("version audit", f"/participants/{alice.pk}/versions/2/history/"),
        ("requires attention", "/participants/attention/"),
        ("report builder", "/reports/?fields=first_name&fields=last_name&fields=referral_date"),
        ("saved reports", "/reports/saved/"),
        ("feed tokens", "/reports/feed-tokens/"),
        ("not found", "/participants/999999/"),
        ("invitation link not valid", "/participants/invitation/not-a-token/"),
    ]:
        page.goto(f"{url}{path}")
        _check(page, name, found)

    # The 500 page is rendered without a request, as Django does, then shown in the page.
    page.set_content(loader.get_template("500.html").render())
    _check(page, "server error", found)

    learner = browser.new_page()
    sign_in(learner, url, "lena@example.com", PASSWORD)
    _check(learner, "my details", found)
    learner.goto(f"{url}/imports/")
    _check(learner, "forbidden", found)

    assert found == {}
    # The check itself can fail: a field without a label is reported.
    learner.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')"
    )
    assert any(p.startswith("label (critical)") for p in serious_accessibility_violations(learner))
