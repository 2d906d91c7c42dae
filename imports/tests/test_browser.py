"""The import wizard in real Chromium: sign in, drop a zip, read, download, import."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from browser_testing import needs_chromium, screenshot
from conftest import PASSWORD, make_staff
from participants import roles
from participants.models import Participant

from .bundles import bundle_of, row

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

DROP_FILE = """
([zone, name, data]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "application/zip" }));
  zone.dispatchEvent(new DragEvent("dragenter", { dataTransfer: transfer, bubbles: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
}
"""


def read_download(download: object) -> list[list[str]]:
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(io.StringIO(handle.read())))


def test_an_importer_drops_a_zip_reads_the_report_and_imports(
    live_server, browser, tmp_path
) -> None:
    make_staff("ivy", roles.CREATE_USERS)
    content = bundle_of(row(1), row(2), row(3, National_Insurance_Number="ZZ123456C"))
    page = browser.new_page(accept_downloads=True)

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username or email").fill("ivy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Import PRaP files").first.click()

    page.get_by_label("Create new records as prospects").check()
    zone = page.locator("[data-dropzone]")
    page.evaluate(
        DROP_FILE, [zone.element_handle(), "referrals.zip", base64.b64encode(content).decode()]
    )
    assert page.locator("[data-file-name]").inner_text() == "referrals.zip"
    screenshot(page, "import-upload")
    page.get_by_role("button", name="Import", exact=True).click()

    page.get_by_role("heading", name="Validation report: referrals.zip").wait_for()
    assert page.locator(".stat", has_text="Records accepted").locator(".value").inner_text() == "2"
    assert "National Insurance numbers never start with ZZ." in page.content()
    screenshot(page, "import-report")

    with page.expect_download() as errors:
        page.get_by_role("link", name="Export errors").click()
    error_rows = read_download(errors.value)
    assert error_rows[0] == ["PO Number", "File", "Line", "Column", "Code", "Error"]
    assert [r[0] for r in error_rows[1:]] == ["PO-00003"]
    assert error_rows[1][4] == "nino.prefix"

    page.get_by_role("button", name="Import Accepted Records").click()
    page.get_by_role("heading", name="Import summary: referrals.zip").wait_for()
    screenshot(page, "import-summary")
    with page.expect_download() as successes:
        page.get_by_role("link", name="Export successful records").click()
    success_rows = read_download(successes.value)
    assert [r[0] for r in success_rows[1:]] == ["PO-00001", "PO-00002"]
    assert Participant.objects.count() == 2


def test_the_file_picker_works_without_dragging(live_server, browser, tmp_path) -> None:
    make_staff("ivy", roles.CREATE_USERS)
    bundle = tmp_path / "picked.zip"
    bundle.write_bytes(bundle_of(row(1)))
    page = browser.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username or email").fill("ivy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Update existing records matched by National Insurance number").check()
    page.get_by_label("Create new records as prospects").check()
    page.get_by_label("Zip of PRaP CSV files").set_input_files(str(bundle))
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_role("heading", name="Validation report: picked.zip").wait_for()
    assert page.locator(".stat", has_text="Records accepted").locator(".value").inner_text() == "1"
