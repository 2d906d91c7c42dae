"""The report builder: preview, chart, exports, saving and sharing, permissions."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pytest
from django.test import Client
from openpyxl import load_workbook

from conftest import make_participant
from participants.models import AccessLog, PrapVersion, User, VersionStatus
from reporting.models import SavedReport
from reporting.tests.factories import bulk_participants, make_batch

BUILDER = "/reports/"


def query(**params: object) -> str:
    pairs: list[tuple[str, object]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, v) for v in value)
        else:
            pairs.append((key, value))
    return urlencode(pairs)


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def staff(client: Client, supervisor: User) -> Client:
    client.force_login(supervisor)
    return client


# Permissions -------------------------------------------------------------------------

PAGES = [
    ("get", BUILDER),
    ("get", "/reports/export.csv"),
    ("get", "/reports/export.xlsx"),
    ("post", "/reports/save/"),
    ("get", "/reports/saved/"),
    ("get", "/reports/saved/1/"),
    ("post", "/reports/saved/1/share/"),
    ("post", "/reports/saved/1/delete/"),
    ("get", "/reports/feed-tokens/"),
    ("post", "/reports/feed-tokens/1/revoke/"),
]


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, db: None, method, path) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("who", ["outsider", "learner", "importer", "version_setter"])
@pytest.mark.parametrize(("method", "path"), PAGES)
def test_staff_without_a_reporting_role_get_403(
    client: Client, db: None, request: pytest.FixtureRequest, who: str, method: str, path: str
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert getattr(client, method)(path).status_code == 403


def test_the_navigation_shows_reports_to_reporting_roles_only(
    client: Client, supervisor: User, outsider: User
) -> None:
    client.force_login(supervisor)
    page = client.get("/").content.decode()
    assert 'href="/reports/"' in page and 'href="/reports/feed-tokens/"' in page
    client.force_login(outsider)
    page = client.get("/").content.decode()
    assert 'href="/reports/"' not in page and 'href="/reports/feed-tokens/"' not in page


# Building and previewing ---------------------------------------------------------------


def test_the_builder_opens_empty_with_the_field_choices(staff: Client) -> None:
    response = staff.get(BUILDER)
    assert response.status_code == 200
    page = response.content.decode()
    for group in ("Personal information", "Contact information", "Referral details"):
        assert f"<legend>{group}</legend>" in page
    for group in ("Additional details", "Status", "Version", "Batch"):
        assert f"<legend>{group}</legend>" in page
    assert "Export CSV" not in page


def test_preview_shows_first_rows_total_and_chart(staff: Client, settings) -> None:
    settings.REPORT_PREVIEW_ROWS = 5
    bulk_participants(24)
    response = staff.get(
        f"{BUILDER}?{query(fields=['last_name', 'programme', 'referral_date'], programme='Pioneer', sort='last_name', direction='desc')}"
    )
    assert response.status_code == 200
    assert response.context["total"] == 8
    assert [r[0] for r in response.context["rows"]] == [
        f"Last{i:06d}" for i in (23, 20, 17, 14, 11)
    ]
    page = response.content.decode()
    assert '<h2 id="results-heading">8 people</h2>' in page
    assert '<svg class="chart" role="img"' in page
    assert "Referrals per month, Mar 2024 to Dec 2024; highest 2 in a month." in page
    assert "http" not in page.split('<svg class="chart"')[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_filters_combine(staff: Client, supervisor: User) -> None:
    batch = make_batch(supervisor)
    bulk_participants(24)
    people = bulk_participants(4, start=100, batch=batch)
    PrapVersion.objects.create(participant=people[0], number=2, status=VersionStatus.PENDING)
    fields = ["last_name"]

    def last_names(**filters: object) -> list[str]:
        response = staff.get(f"{BUILDER}?{query(fields=fields, **filters)}")
        assert response.status_code == 200, response.context["form"].errors
        return [r[0] for r in response.context["rows"]]

    def total(**filters: object) -> int:
        return staff.get(f"{BUILDER}?{query(fields=fields, **filters)}").context["total"]

    assert last_names(pending="yes") == ["Last000100"]
    assert total(pending="no") == 27
    assert last_names(batch=batch.pk) == [f"Last{i:06d}" for i in range(100, 104)]
    assert last_names(contract="CPA 1", referral_from="2024-02-01", referral_to="2024-02-28") == [
        "Last000001",
        "Last000013",
    ]
    assert last_names(status="learner") == []


def test_an_invalid_date_range_is_explained(staff: Client) -> None:
    response = staff.get(f"{BUILDER}?{query(referral_from='2024-05-01', referral_to='2024-04-01')}")
    assert response.status_code == 200
    assert "The end of the date range is before its start." in response.content.decode()
    assert "total" not in response.context


def test_nino_is_masked_for_people_who_may_not_reveal_it(
    client: Client, supervisor: User, db: None
) -> None:
    from django.contrib.auth.models import Permission

    from conftest import make_staff

    make_participant(nino="QQ123456C")
    reader = make_staff("rita")
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="reporting", codename="build_reports")
    )
    client.force_login(reader)
    response = client.get(f"{BUILDER}?{query(fields=['nino'])}")
    assert response.context["rows"] == [["QQ •• •• 56 C"]]
    client.force_login(supervisor)
    response = client.get(f"{BUILDER}?{query(fields=['nino'])}")
    assert response.context["rows"] == [["QQ123456C"]]


# Exports ---------------------------------------------------------------------------------


def test_csv_export_streams_every_row_with_formulas_neutralised(
    staff: Client, supervisor: User, settings
) -> None:
    settings.REPORT_EXPORT_CHUNK_SIZE = 7
    bulk_participants(20)
    make_participant(
        nino="QQ999999C", first_name='=HYPERLINK("http://evil")', last_name="-Zed", town="@x"
    )
    response = staff.get(
        f"/reports/export.csv?{query(fields=['first_name', 'last_name', 'town', 'disability_status', 'status'], sort='last_name')}"
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="prap-report-')
    rows = csv_rows(response)
    assert rows[0] == ["First Name", "Last Name", "Town", "Disability Status", "Status"]
    assert len(rows) == 22
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "'-Zed", "'@x", "", "Prospect"]
    assert rows[3] == ["First1", "Last000001", "Town 1", "Yes", "Prospect"]
    entry = AccessLog.objects.get(action="report_export")
    assert entry.user == supervisor and entry.participant is None
    assert entry.detail.startswith("/reports/export.csv?fields=first_name")


def test_xlsx_export_writes_typed_cells_and_no_formulas(staff: Client) -> None:
    bulk_participants(3)
    make_participant(nino="QQ999999C", first_name="=1+1", last_name="Zulu")
    response = staff.get(
        f"/reports/export.xlsx?{query(fields=['first_name', 'referral_date', 'version_number'])}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook["Report"].values)
    assert rows[0] == ("First Name", "Referral Date", "Version number")
    assert len(rows) == 5
    assert rows[-1][0] == "'=1+1"
    assert rows[1][1].date().isoformat() == "2024-01-01"
    assert rows[1][2] == 1


def test_an_export_with_invalid_filters_is_refused(staff: Client) -> None:
    response = staff.get("/reports/export.csv?referral_from=yesterday")
    assert response.status_code == 400
    assert response.content == b"The report's filters are not valid."


# Saving and sharing -------------------------------------------------------------------------


def test_a_report_is_saved_by_name_and_runs_again(staff: Client, supervisor: User) -> None:
    definition = query(fields=["last_name", "town"], programme="Pioneer", sort="town")
    bulk_participants(3)
    response = staff.post(f"/reports/save/?{definition}", {"name": "Pioneer towns"})
    report = SavedReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reports/saved/{report.pk}/"
    assert report.owner == supervisor and not report.shared
    assert report.definition["fields"] == ["last_name", "town"]
    assert report.definition["programme"] == "Pioneer"
    run = staff.get(f"/reports/saved/{report.pk}/")
    assert run.status_code == 302
    assert run["Location"] == (
        "/reports/?fields=last_name&fields=town&programme=Pioneer&sort=town&direction=asc"
    )
    assert staff.get(run["Location"]).context["total"] == 1


def test_saving_without_a_name_is_refused(staff: Client) -> None:
    response = staff.post("/reports/save/", {"name": ""}, follow=True)
    assert SavedReport.objects.count() == 0
    assert (
        "The report was not saved: give it a name and valid filters." in response.content.decode()
    )


def test_shared_reports_are_visible_to_other_staff_but_only_the_owner_changes_them(
    client: Client, supervisor: User, compliance: User
) -> None:
    mine = SavedReport.objects.create(owner=supervisor, name="Mine", definition={})
    client.force_login(compliance)
    assert client.get(f"/reports/saved/{mine.pk}/").status_code == 404
    assert "Mine" not in client.get("/reports/saved/").content.decode()

    client.force_login(supervisor)
    response = client.post(f"/reports/saved/{mine.pk}/share/", {"shared": "1"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.shared

    client.force_login(compliance)
    assert "Mine" in client.get("/reports/saved/").content.decode()
    assert client.get(f"/reports/saved/{mine.pk}/").status_code == 302
    assert client.post(f"/reports/saved/{mine.pk}/share/", {"shared": "0"}).status_code == 404
    assert client.post(f"/reports/saved/{mine.pk}/delete/").status_code == 404

    client.force_login(supervisor)
    assert client.post(f"/reports/saved/{mine.pk}/delete/").status_code == 302
    assert SavedReport.objects.count() == 0


def test_the_chart_counts_referrals_per_month_with_empty_months_drawn() -> None:
    import datetime

    from reporting.chart import referrals_chart_svg

    svg = referrals_chart_svg([(datetime.date(2024, 1, 1), 3), (datetime.date(2024, 4, 1), 1)])
    assert svg.count('<rect class="chart-bar"') == 4
    assert "<title>Feb 2024: 0</title>" in svg
    assert "<title>Jan 2024: 3</title>" in svg
    assert referrals_chart_svg([]) == ""


def test_a_link_without_a_sort_shows_the_default_sort(staff: Client) -> None:
    page = staff.get(f"{BUILDER}?{query(fields=['town'])}").content.decode()
    assert '<option value="last_name" selected>Last Name</option>' in page
    page = staff.get(BUILDER).content.decode()
    assert '<option value="last_name" selected>Last Name</option>' in page
