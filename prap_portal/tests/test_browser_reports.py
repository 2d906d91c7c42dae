"""Reports in real Chromium: the validation report's filter and pages, live progress, the report builder."""

from __future__ import annotations

import csv
import datetime

import openpyxl
import pytest
from django.utils import timezone

from browser_testing import needs_chromium, screenshot, sign_in
from conftest import PASSWORD, make_participant, make_staff
from imports.models import BatchStatus, ImportBatch
from imports.tests.bundles import bundle_of, row
from participants import roles

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def _body_rows(page: object) -> list[list[str]]:
    table = page.get_by_role("table").last
    return [r.get_by_role("cell").all_inner_texts() for r in table.locator("tbody tr").all()]


def test_the_validation_report_filters_pages_and_shows_live_progress(
    live_server, browser, tmp_path
) -> None:
    ivy = make_staff("ivy", roles.CREATE_USERS)
    rejected = {10, 20, 52}
    rows = [
        row(n, National_Insurance_Number=f"ZZ{n:06d}C") if n in rejected else row(n)
        for n in range(1, 56)
    ]
    bundle = tmp_path / "many.zip"
    bundle.write_bytes(bundle_of(*rows))
    url = live_server.url
    page = browser.new_page()
    sign_in(page, url, "ivy", PASSWORD)

    page.get_by_role("link", name="Import PRaP files").first.click()
    page.get_by_label("Create new records as prospects").check()
    page.get_by_label("Zip of PRaP CSV files").set_input_files(str(bundle))
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_role("heading", name="Validation report: many.zip").wait_for()
    chart = page.get_by_role(
        "img", name="Rows with each error and warning code: nino.prefix 3 errors"
    )
    assert chart.is_visible()
    assert page.get_by_text("Page 1 of 2").is_visible()
    assert len(_body_rows(page)) == 50

    page.get_by_role("link", name="Next").click()
    page.get_by_text("Page 2 of 2").wait_for()
    assert [r[0] for r in _body_rows(page)] == [f"PO-{n:05d}" for n in range(51, 56)]

    page.get_by_label("Show rejected rows only").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**show=rejected**")
    shown = _body_rows(page)
    assert [r[0] for r in shown] == ["PO-00010", "PO-00020", "PO-00052"]
    assert {r[5] for r in shown} == {"Rejected"}
    assert page.get_by_label("Show rejected rows only").is_checked()
    assert page.get_by_text("Page 1 of").count() == 0

    # A long validation shows rows done and time left, then the report when it is done.
    busy = ImportBatch.objects.create(
        uploaded_by=ivy,
        file_name="large.zip",
        create_new=True,
        status=BatchStatus.VALIDATING,
        phase="Checking rows",
        progress_done=1200,
        progress_total=4800,
        phase_started_at=timezone.now() - datetime.timedelta(seconds=30),
    )
    page.goto(f"{url}/imports/{busy.pk}/")
    progress = page.get_by_role("progressbar", name="Checking rows")
    assert progress.get_attribute("aria-valuenow") == "25"
    page.locator("[data-progress-remaining]", has_text="About 2 minutes").wait_for()
    assert page.locator("[data-progress-done]").inner_text() == "1,200 of 4,800"
    assert progress.get_attribute("aria-valuetext") == "25% done: 1,200 of 4,800 rows"
    assert (
        page.locator("[aria-live=polite]")
        .text_content()
        .startswith("Checking rows: 1,200 of 4,800 rows")
    )
    screenshot(page, "import-progress")
    ImportBatch.objects.filter(pk=busy.pk).update(
        progress_done=3600, phase_started_at=timezone.now() - datetime.timedelta(seconds=60)
    )
    page.locator("[data-progress-done]", has_text="3,600 of 4,800").wait_for()
    assert progress.get_attribute("aria-valuenow") == "75"
    ImportBatch.objects.filter(pk=busy.pk).update(
        status=BatchStatus.VALIDATED, validated_at=timezone.now()
    )
    page.get_by_role("heading", name="Validation report: large.zip").wait_for(timeout=10_000)


def test_a_report_is_built_filtered_exported_and_saved(live_server, browser, tmp_path) -> None:
    make_staff("sam", roles.SUPERVISOR)
    make_participant(
        nino="QQ100001C", first_name="Alice", last_name="Adams", programme="Restart Scheme"
    )
    make_participant(
        nino="QQ100002C", first_name="Cleo", last_name="Clark", programme="Restart Scheme"
    )
    make_participant(
        nino="QQ100003C", first_name="Bea", last_name="Baker", programme="Work and Health Programme"
    )
    page = browser.new_page(accept_downloads=True)
    sign_in(page, live_server.url, "sam", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    for column in ("First Name", "Last Name", "Programme"):
        page.get_by_role("checkbox", name=column, exact=True).check()
    page.get_by_role("combobox", name="Programme", exact=True).select_option("Restart Scheme")
    page.get_by_label("Sort by").select_option(label="Last Name")
    page.get_by_label("Order").select_option("desc")
    page.get_by_role("button", name="Show report").click()
    page.get_by_role("heading", name="2 people").wait_for()
    table = page.get_by_role("table")
    assert table.locator("thead th").all_inner_texts() == ["First Name", "Last Name", "Programme"]
    assert _body_rows(page) == [
        ["Cleo", "Clark", "Restart Scheme"],
        ["Alice", "Adams", "Restart Scheme"],
    ]
    screenshot(page, "report-builder")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Export CSV").click()
    with open(csv_download.value.path(), encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["First Name", "Last Name", "Programme"],
            ["Cleo", "Clark", "Restart Scheme"],
            ["Alice", "Adams", "Restart Scheme"],
        ]
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Export Excel (XLSX)").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    xlsx_download.value.save_as(tmp_path / "report.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["First Name", "Last Name", "Programme"],
        ["Cleo", "Clark", "Restart Scheme"],
        ["Alice", "Adams", "Restart Scheme"],
    ]

    page.get_by_label("Report name").fill("Restart, newest names first")
    page.get_by_role("button", name="Save report").click()
    assert (
        page.get_by_role("status").inner_text()
        == "Done: Report “Restart, newest names first” saved."
    )
    page.get_by_role("link", name="Saved reports").first.click()
    assert page.get_by_role("link", name="Restart, newest names first").is_visible()
