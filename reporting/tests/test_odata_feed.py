"""The OData feed over raw HTTP: authentication, headers, metadata, queries and paging."""

from __future__ import annotations

import base64
import datetime
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from conftest import make_participant, make_staff
from participants.models import AccessLog, PrapVersion, User, VersionStatus
from reporting import services
from reporting.models import FeedToken
from reporting.tests.factories import bulk_participants, make_batch

JSON_TYPE = "application/json;odata.metadata=minimal"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"


def basic(user: User, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user.username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def token_for(user: User) -> str:
    return services.feed_token_create(user=user, name="Power BI")[1]


@pytest.fixture
def feed(client: Client, supervisor: User):
    """GET on the feed as the supervisor (who may reveal NINOs)."""
    headers = basic(supervisor, token_for(supervisor))

    def get(path: str, **extra: str):
        return client.get(path, headers={**headers, **extra})

    return get


@pytest.fixture
def analyst(db: None) -> User:
    """Staff who may read the feed but not reveal NINOs."""
    user = make_staff("ana")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="reporting", codename="use_odata_feed")
    )
    return user


def error_of(response) -> dict:
    return response.json()["error"]


# Authentication and permission ------------------------------------------------


def test_anonymous_requests_get_401_with_basic_challenge(client: Client, db: None) -> None:
    response = client.get("/odata/Participants")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="PRaP Portal OData feed", charset="UTF-8"'
    assert response["Content-Type"] == JSON_TYPE
    assert response["OData-Version"] == "4.0"
    assert error_of(response) == {
        "code": "Unauthorized",
        "message": "Sign in with your user name and a feed token as the password.",
    }


def test_a_wrong_password_or_revoked_token_gets_401(client: Client, supervisor: User) -> None:
    token, secret = services.feed_token_create(user=supervisor, name="x")
    assert client.get("/odata/", headers=basic(supervisor, "prap_wrong")).status_code == 401
    assert client.get("/odata/", headers=basic(supervisor, secret)).status_code == 200
    services.feed_token_revoke(token=token)
    response = client.get("/odata/", headers=basic(supervisor, secret))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_a_session_login_is_not_enough(client: Client, supervisor: User) -> None:
    client.force_login(supervisor)
    assert client.get("/odata/Participants").status_code == 401


def test_basic_username_must_match_the_tokens_owner(
    client: Client, supervisor: User, compliance: User
) -> None:
    secret = token_for(supervisor)
    assert client.get("/odata/", headers=basic(compliance, secret)).status_code == 401


def test_a_bearer_token_works_and_its_use_is_recorded(client: Client, supervisor: User) -> None:
    secret = token_for(supervisor)
    response = client.get("/odata/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert FeedToken.objects.get(user=supervisor).last_used_at is not None


def test_the_token_is_stored_hashed(supervisor: User) -> None:
    token, secret = services.feed_token_create(user=supervisor, name="Excel")
    assert secret.startswith("prap_") and len(secret) > 40
    assert secret not in (token.token_hash, token.hint)
    assert token.token_hash == services.hash_token(secret)
    assert FeedToken.objects.filter(token_hash__contains=secret[5:]).count() == 0


@pytest.mark.parametrize("who", ["outsider", "learner", "importer"])
def test_people_without_the_feed_permission_get_403(
    client: Client, db: None, who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    response = client.get("/odata/Participants", headers=basic(user, token_for(user)))
    assert response.status_code == 403
    assert error_of(response) == {
        "code": "Forbidden",
        "message": "You do not have permission to use the OData feed.",
    }


def test_compliance_qa_holds_the_feed_and_report_permissions(
    compliance: User, supervisor: User
) -> None:
    for user in (compliance, supervisor):
        assert user.has_perm("reporting.use_odata_feed")
        assert user.has_perm("reporting.build_reports")


def test_every_request_is_in_the_access_log(feed, supervisor: User) -> None:
    feed("/odata/Participants?$top=1&$filter=Programme eq 'Pioneer'")
    entry = AccessLog.objects.get(user=supervisor)
    assert entry.action == "odata"
    assert entry.participant is None
    assert entry.detail == "/odata/Participants?$top=1&$filter=Programme%20eq%20'Pioneer'"


def test_writes_are_refused(client: Client, supervisor: User) -> None:
    response = client.post("/odata/Participants", headers=basic(supervisor, token_for(supervisor)))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# Service document and metadata ------------------------------------------------


def test_service_document_lists_the_entity_sets(feed) -> None:
    response = feed("/odata/")
    assert response.status_code == 200
    assert response["Content-Type"] == JSON_TYPE
    assert response.headers["OData-Version"] == "4.0"
    assert response.json() == {
        "@odata.context": "http://testserver/odata/$metadata",
        "value": [
            {"name": "Participants", "kind": "EntitySet", "url": "Participants"},
            {"name": "PrapVersions", "kind": "EntitySet", "url": "PrapVersions"},
            {"name": "ImportBatches", "kind": "EntitySet", "url": "ImportBatches"},
        ],
    }


def test_metadata_is_csdl_xml_with_typed_properties(feed) -> None:
    response = feed("/odata/$metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["OData-Version"] == "4.0"
    root = ET.fromstring(response.content)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    assert schema.get("Namespace") == "PrapPortal"
    types = {
        t.get("Name"): {
            p.get("Name"): (p.get("Type"), p.get("Nullable")) for p in t.iter(f"{EDM}Property")
        }
        for t in schema.iter(f"{EDM}EntityType")
    }
    assert set(types) == {"Participant", "PrapVersion", "ImportBatch"}
    participant = types["Participant"]
    assert participant["Id"] == ("Edm.Int64", "false")
    assert participant["FirstName"] == ("Edm.String", "false")
    assert participant["NationalInsuranceNumber"] == ("Edm.String", "false")
    assert participant["DateOfBirth"] == ("Edm.Date", "true")
    assert participant["DisabilityStatus"] == ("Edm.Boolean", "true")
    assert participant["CreatedAt"] == ("Edm.DateTimeOffset", "false")
    assert participant["HasPendingVersion"] == ("Edm.Boolean", "false")
    assert "Password" not in participant and "DataHash" not in participant
    assert "Extra" not in participant
    assert types["PrapVersion"]["VersionStatus"] == ("Edm.String", "false")
    assert types["ImportBatch"]["RejectedCount"] == ("Edm.Int64", "false")
    sets = {s.get("Name"): s.get("EntityType") for s in schema.iter(f"{EDM}EntitySet")}
    assert sets == {
        "Participants": "PrapPortal.Participant",
        "PrapVersions": "PrapPortal.PrapVersion",
        "ImportBatches": "PrapPortal.ImportBatch",
    }


# Reading entity sets -------------------------------------------------------------


def test_participants_are_the_applied_data_with_typed_values_and_explicit_nulls(
    feed, supervisor: User
) -> None:
    person = make_participant(
        nino="QQ123456C", email="al@example.com", po_number="PO-1", disability_status=True
    )
    PrapVersion.objects.create(
        participant=person, number=2, status=VersionStatus.PENDING, first_name="Alicia"
    )
    response = feed("/odata/Participants")
    body = response.json()
    assert body["@odata.context"] == "http://testserver/odata/$metadata#Participants"
    assert "@odata.count" not in body and "@odata.nextLink" not in body
    [row] = body["value"]
    assert row["Id"] == person.pk
    assert row["Username"] == "al@example.com"
    assert row["Status"] == "prospect"
    assert row["FirstName"] == "Alice"
    assert row["NationalInsuranceNumber"] == "QQ123456C"
    assert row["ReferralDate"] == "2024-03-01"
    assert row["DateOfBirth"] is None and "DateOfBirth" in row
    assert row["DisabilityStatus"] is True
    assert row["IncidentMarker"] is None
    assert row["HasPendingVersion"] is True
    assert row["VersionNumber"] == 1
    assert row["BatchId"] is None
    created = datetime.datetime.fromisoformat(row["CreatedAt"])
    assert created.utcoffset() == datetime.timedelta(0)
    assert "password" not in {k.lower() for k in row}


def test_the_nino_is_masked_for_readers_who_may_not_reveal_it(
    client: Client, analyst: User
) -> None:
    make_participant(nino="QQ123456C")
    headers = basic(analyst, token_for(analyst))
    [row] = client.get("/odata/Participants", headers=headers).json()["value"]
    assert row["NationalInsuranceNumber"] == "QQ •• •• 56 C"
    response = client.get(
        "/odata/Participants?$filter=startswith(NationalInsuranceNumber,'QQ1')", headers=headers
    )
    assert response.status_code == 403
    assert error_of(response)["target"] == "$filter"
    response = client.get("/odata/Participants?$orderby=NationalInsuranceNumber", headers=headers)
    assert response.status_code == 403


def test_prap_versions_list_every_version_with_status_and_batch(feed, supervisor: User) -> None:
    batch = make_batch(supervisor)
    person = make_participant()
    PrapVersion.objects.create(
        participant=person, number=2, status=VersionStatus.PENDING, batch=batch, source_line=7
    )
    body = feed(
        "/odata/PrapVersions?$select=ParticipantId,VersionNumber,VersionStatus,BatchId,SourceLine&$orderby=VersionNumber"
    ).json()
    assert body["@odata.context"] == (
        "http://testserver/odata/$metadata#PrapVersions(ParticipantId,VersionNumber,VersionStatus,BatchId,SourceLine)"
    )
    assert body["value"] == [
        {
            "ParticipantId": person.pk,
            "VersionNumber": 1,
            "VersionStatus": "applied",
            "BatchId": None,
            "SourceLine": None,
        },
        {
            "ParticipantId": person.pk,
            "VersionNumber": 2,
            "VersionStatus": "pending",
            "BatchId": batch.pk,
            "SourceLine": 7,
        },
    ]


def test_import_batches_show_the_history_with_counts(feed, supervisor: User) -> None:
    batch = make_batch(supervisor)
    [row] = feed("/odata/ImportBatches").json()["value"]
    assert row["Id"] == batch.pk
    assert row["FileName"] == "referrals.zip"
    assert row["Status"] == "imported"
    assert row["UploadedBy"] == "sam"
    assert (row["TotalRows"], row["AcceptedCount"], row["RejectedCount"]) == (3, 2, 1)
    assert row["CommittedAt"] is None
    assert row["UpdateByNino"] is False


def test_filter_select_orderby_top_skip_and_count(feed) -> None:
    bulk_participants(30)
    response = feed(
        "/odata/Participants?$filter=Programme eq 'Pioneer' and ReferralDate ge 2024-06-01"
        "&$select=LastName,Programme,ReferralDate&$orderby=LastName desc&$top=3&$skip=1&$count=true"
    )
    assert response.status_code == 200
    body = response.json()
    expected = sorted((i for i in range(30) if i % 3 == 2 and i % 12 + 1 >= 6), reverse=True)
    assert body["@odata.count"] == len(expected)
    assert [r["LastName"] for r in body["value"]] == [f"Last{i:06d}" for i in expected[1:4]]
    assert set(body["value"][0]) == {"LastName", "Programme", "ReferralDate"}
    assert "@odata.nextLink" not in body


def test_functions_and_in_and_boolean_filters(feed) -> None:
    bulk_participants(12)

    def ids(query: str) -> list[str]:
        response = feed(f"/odata/Participants?$select=LastName&{query}")
        assert response.status_code == 200, response.json()
        return [r["LastName"] for r in response.json()["value"]]

    assert ids("$filter=contains(tolower(Town),'town 1')") == ["Last000001", "Last000011"]
    assert ids("$filter=Town in ('Town 2','Town 3') and year(ReferralDate) eq 2024") == [
        "Last000002",
        "Last000003",
    ]
    assert ids("$filter=DisabilityStatus eq null and HasPendingVersion eq false") == [
        f"Last{i:06d}" for i in (0, 3, 6, 9)
    ]
    assert ids("$filter=not HasPendingVersion and DisabilityStatus") == [
        f"Last{i:06d}" for i in (1, 4, 7, 10)
    ]


@pytest.mark.parametrize(
    ("query", "status", "code", "message"),
    [
        (
            "$filter=Password eq 'x'",
            400,
            "UnknownProperty",
            "The property 'Password' does not exist or cannot be filtered on.",
        ),
        (
            "$filter=FirstName eq 5",
            400,
            "InvalidFilter",
            "Cannot compare FirstName with a value of another type.",
        ),
        (
            "$filter=ReferralDate eq 2024-02-31",
            400,
            "InvalidFilter",
            "The $filter cannot be applied: Invalid value: 2024-02-31",
        ),
        ("$filter=FirstName", 400, "InvalidFilter", "The $filter must be a true/false condition."),
        (
            "$filter=User/Password eq 'x'",
            400,
            "UnknownProperty",
            "Navigation paths are not available in $filter; use a property of this entity set.",
        ),
        (
            "$filter=VersionNumber add 1 eq 2",
            501,
            "NotImplemented",
            "Arithmetic in $filter is not supported.",
        ),
        (
            "$filter=matchesPattern(FirstName,'^A')",
            501,
            "NotImplemented",
            "The function 'matchesPattern' is not supported.",
        ),
        (
            "$select=FirstName,Password",
            400,
            "UnknownProperty",
            "The property 'Password' does not exist on Participants.",
        ),
        (
            "$orderby=Secret",
            400,
            "UnknownProperty",
            "The property 'Secret' does not exist on Participants.",
        ),
        (
            "$orderby=FirstName sideways",
            400,
            "BadRequest",
            "Cannot read the $orderby item 'FirstName sideways'.",
        ),
        ("$top=-1", 400, "BadRequest", "$top must be a whole number of 0 or more."),
        ("$skip=x", 400, "BadRequest", "$skip must be a whole number of 0 or more."),
        ("$count=yes", 400, "BadRequest", "$count must be true or false."),
        ("$skiptoken=!!!", 400, "BadRequest", "The $skiptoken is not valid for this query."),
        ("$format=xml", 400, "BadRequest", "Only the JSON format is supported."),
        ("$levels=2", 501, "NotImplemented", "The query option $levels is not supported."),
        ("$expand=Versions", 501, "NotImplemented", "The query option $expand is not supported."),
        ("$search=alice", 501, "NotImplemented", "The query option $search is not supported."),
        (
            "$apply=groupby((Town))",
            501,
            "NotImplemented",
            "The query option $apply is not supported.",
        ),
        ("$unknown=1", 400, "BadRequest", "The query option $unknown is not supported."),
    ],
)
def test_bad_or_unsupported_queries_answer_in_the_odata_error_format(
    feed, query: str, status: int, code: str, message: str
) -> None:
    make_participant()
    response = feed(f"/odata/Participants?{query}")
    assert response.status_code == status
    assert response["Content-Type"] == JSON_TYPE
    assert response["OData-Version"] == "4.0"
    error = error_of(response)
    assert (error["code"], error["message"]) == (code, message)


def test_an_unknown_entity_set_is_an_odata_404(feed) -> None:
    response = feed("/odata/Passwords")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "NotFound",
        "message": "There is no entity set called 'Passwords'.",
    }


def test_count_segment_answers_plain_text(feed) -> None:
    bulk_participants(9)
    response = feed("/odata/Participants/$count?$filter=Programme eq 'Pioneer'")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response.content == b"3"


# Server-driven paging ---------------------------------------------------------------


def _follow(feed, url: str) -> tuple[list[dict], int]:
    rows: list[dict] = []
    pages = 0
    while url:
        response = feed(url.removeprefix("http://testserver"))
        assert response.status_code == 200, response.json()
        body = response.json()
        rows.extend(body["value"])
        pages += 1
        url = body.get("@odata.nextLink", "")
    return rows, pages


@override_settings(ODATA_PAGE_SIZE=4)
def test_next_links_are_absolute_and_keep_the_query(feed) -> None:
    bulk_participants(10)
    body = feed("/odata/Participants?$select=Id&$filter=Town ne 'Town 0'&$count=true").json()
    link = body["@odata.nextLink"]
    assert link.startswith("http://testserver/odata/Participants?")
    params = parse_qs(urlsplit(link).query)
    assert params["$filter"] == ["Town ne 'Town 0'"]
    assert params["$select"] == ["Id"]
    assert params["$count"] == ["true"]
    assert "$skiptoken" in params and "$skip" not in params
    rows, pages = _follow(feed, link)
    assert len(body["value"]) + len(rows) == 9
    assert pages == 2


@override_settings(ODATA_PAGE_SIZE=3)
@pytest.mark.parametrize(
    "orderby", ["", "DateOfBirth", "DisabilityStatus desc", "Town desc,LastName", "Id desc"]
)
def test_keyset_paging_reads_every_row_once_in_a_stable_order(feed, orderby: str) -> None:
    bulk_participants(11)
    query = "$select=Id,Town,DisabilityStatus&$orderby=" + orderby if orderby else "$select=Id"
    paged, pages = _follow(feed, f"/odata/Participants?{query}")
    with override_settings(ODATA_PAGE_SIZE=100):
        whole = feed(f"/odata/Participants?{query}").json()["value"]
    assert pages == 4
    assert paged == whole
    assert len({r["Id"] for r in paged}) == 11


@override_settings(ODATA_PAGE_SIZE=4, ODATA_MAX_PAGE_SIZE=6)
def test_top_larger_than_a_page_pages_up_to_top(feed) -> None:
    bulk_participants(10)
    rows, pages = _follow(feed, "/odata/Participants?$select=Id&$top=7")
    assert (len(rows), pages) == (7, 2)


@override_settings(ODATA_PAGE_SIZE=100, ODATA_MAX_PAGE_SIZE=5)
def test_page_size_is_capped_and_a_smaller_page_can_be_preferred(feed) -> None:
    bulk_participants(12)
    body = feed("/odata/Participants?$select=Id").json()
    assert len(body["value"]) == 5
    response = feed("/odata/Participants?$select=Id", HTTP_PREFER="odata.maxpagesize=2")
    response = feed("/odata/Participants?$select=Id", Prefer="odata.maxpagesize=2")
    assert len(response.json()["value"]) == 2
    assert response["Preference-Applied"] == "odata.maxpagesize=2"


def test_a_large_read_makes_a_fixed_number_of_queries(feed, django_assert_max_num_queries) -> None:
    bulk_participants(300)
    with django_assert_max_num_queries(8):
        body = feed("/odata/Participants?$count=true&$filter=Programme eq 'Pioneer'").json()
    assert body["@odata.count"] == 100
    assert len(body["value"]) == 100


FEED_PATHS = [
    "/odata/",
    "/odata/$metadata",
    "/odata/Participants",
    "/odata/PrapVersions",
    "/odata/ImportBatches",
    "/odata/Participants/$count",
]


@pytest.mark.parametrize("path", FEED_PATHS)
def test_every_feed_endpoint_needs_a_token_and_the_permission(
    client: Client, outsider: User, learner: User, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    for user in (outsider, learner):
        response = client.get(path, headers=basic(user, token_for(user)))
        assert response.status_code == 403
        assert response["OData-Version"] == "4.0"
