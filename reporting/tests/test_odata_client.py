"""The feed read by an independent OData v4 client (python-odata) over real HTTP."""

from __future__ import annotations

import datetime
import http.client
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests
from odata import ODataService
from odata.exceptions import ODataError
from requests.auth import HTTPBasicAuth

from participants.models import User
from reporting import services
from reporting.tests.factories import bulk_participants

live = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connect(live_server) -> Iterator[Callable[[User], ODataService]]:
    """An OData client signed in as a user with a fresh feed token."""
    sessions: list[requests.Session] = []

    def make(user: User) -> ODataService:
        secret = services.feed_token_create(user=user, name="client")[1]
        session = requests.Session()
        sessions.append(session)
        return ODataService(
            f"{live_server.url}/odata/",
            session=session,
            auth=HTTPBasicAuth(user.username, secret),
            reflect_entities=True,
            quiet_progress=True,
        )

    yield make
    # Drop kept-alive connections before the test database goes away.
    for session in sessions:
        session.close()


@live
def test_a_client_reads_a_filtered_selected_paged_set_of_10000_participants(
    connect, supervisor: User, settings
) -> None:
    settings.ODATA_PAGE_SIZE = 1000
    bulk_participants(10_000)
    service = connect(supervisor)
    assert set(service.entities) == {"Participants", "PrapVersions", "ImportBatches"}
    Participant = service.entities["Participants"]

    query = (
        service.query(Participant)
        .filter(Participant.Programme == "Pioneer")
        # python-odata has no Edm.Date type (it would quote the date): write that part out.
        .filter("ReferralDate ge 2024-07-01")
        .select(Participant.Id, Participant.LastName, Participant.Town)
        .order_by(Participant.LastName.desc())
    )
    rows = query.all()  # follows @odata.nextLink page by page

    expected = [i for i in range(10_000) if i % 3 == 2 and i % 12 + 1 >= 7]
    assert len(rows) == len(expected) == 1666
    assert [r["LastName"] for r in rows] == [f"Last{i:06d}" for i in reversed(expected)]
    assert set(rows[0]) == {"Id", "LastName", "Town"}
    assert len({r["Id"] for r in rows}) == 1666
    assert query.count() == 1666


@live
def test_a_client_gets_typed_entities_and_odata_errors(connect, supervisor: User) -> None:
    bulk_participants(3)
    service = connect(supervisor)
    Participant = service.entities["Participants"]
    person = service.query(Participant).filter(Participant.LastName == "Last000001").one()
    assert person.FirstName == "First1"
    assert person.NationalInsuranceNumber == "QQ000001C"
    assert person.DisabilityStatus is True
    assert person.VersionNumber == 1
    assert isinstance(person.CreatedAt, datetime.datetime)
    assert person.CreatedAt.utcoffset() == datetime.timedelta(0)

    with pytest.raises(ODataError) as error:
        service.query(Participant).raw({"$filter": "Password eq 'x'"})
    assert error.value.code == "UnknownProperty"
    assert error.value.message == (
        "The property 'Password' does not exist or cannot be filtered on."
    )
    with pytest.raises(ODataError) as error:
        service.query(Participant).expand(Participant.Id).all()
    assert error.value.status_code == "HTTP 501"


@live
def test_responses_carry_exactly_one_odata_version_header(live_server, supervisor: User) -> None:
    secret = services.feed_token_create(user=supervisor, name="raw")[1]
    url = urlsplit(live_server.url)
    for path, content_type in (
        ("/odata/", "application/json;odata.metadata=minimal"),
        ("/odata/$metadata", "application/xml"),
        ("/odata/Participants?$top=1", "application/json;odata.metadata=minimal"),
        ("/odata/Participants?$expand=X", "application/json;odata.metadata=minimal"),
    ):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.request("GET", path, headers={"Authorization": f"Bearer {secret}"})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.headers.get_all("OData-Version") == ["4.0"], path
        assert response.headers.get_all("Content-Type") == [content_type], path
