import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, make_participant
from participants.models import Kind, User
from participants.tests.factories import add_version

URL = reverse("participants-list")


def _client(user: User) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def _names(response) -> list[str]:
    return [f"{p.user.first_name} {p.user.last_name}" for p in response.context["page"]]


@pytest.fixture
def people(db: None) -> None:
    make_participant(nino="QQ123456C", first_name="Alice", last_name="Adams", po_number="PO-100")
    make_participant(
        nino="AB654321D",
        first_name="Bob",
        last_name="Brown",
        email="bob.brown@example.com",
        programme="Work and Health",
        po_number="PO-200",
        kind=Kind.LEARNER,
    )
    make_participant(nino="CE111111A", first_name="Carla", last_name="Alden", po_number="X9")


@pytest.mark.parametrize("role", ["importer", "supervisor", "compliance", "version_setter"])
def test_every_role_sees_the_list(request: pytest.FixtureRequest, role: str, people: None) -> None:
    response = _client(request.getfixturevalue(role)).get(URL)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3


def test_an_outsider_gets_404(outsider: User) -> None:
    assert _client(outsider).get(URL).status_code == 404


def test_a_learner_gets_404(learner: User) -> None:
    assert _client(learner).get(URL).status_code == 404


def test_anonymous_is_sent_to_login(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ada", ["Alice Adams"]),
        ("ALICE", ["Alice Adams"]),
        ("al", ["Carla Alden", "Alice Adams"]),
        ("Alice Adams", ["Alice Adams"]),
        ("Adams Alice", ["Alice Adams"]),
        ("qq 12 34", ["Alice Adams"]),
        ("qq123456c", ["Alice Adams"]),
        ("QQ 12 34 56 C", ["Alice Adams"]),
        ("Bob.Brown@Example.com", ["Bob Brown"]),
        ("bob.brown@", ["Bob Brown"]),
        ("po-2", ["Bob Brown"]),
        ("PO-100", ["Alice Adams"]),
        ("X9", ["Carla Alden"]),
        ("nobody", []),
    ],
)
def test_it_searches_by_name_nino_email_and_po_number(
    supervisor: User, people: None, q: str, expected: list[str]
) -> None:
    response = _client(supervisor).get(URL, {"q": q, "sort": "-name"})
    assert sorted(_names(response)) == sorted(expected)


def test_it_filters_by_status(supervisor: User, people: None) -> None:
    client = _client(supervisor)
    assert _names(client.get(URL, {"status": "learner"})) == ["Bob Brown"]
    assert _names(client.get(URL, {"status": "prospect"})) == ["Alice Adams", "Carla Alden"]


def test_it_filters_by_programme(supervisor: User, people: None) -> None:
    response = _client(supervisor).get(URL, {"programme": "Work and Health"})
    assert _names(response) == ["Bob Brown"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alice Adams", "Carla Alden", "Bob Brown"]),
        ("-name", ["Bob Brown", "Carla Alden", "Alice Adams"]),
        ("nino", ["Bob Brown", "Carla Alden", "Alice Adams"]),
        ("po_number", ["Alice Adams", "Bob Brown", "Carla Alden"]),
        ("newest", ["Carla Alden", "Bob Brown", "Alice Adams"]),
    ],
)
def test_it_sorts(supervisor: User, people: None, sort: str, expected: list[str]) -> None:
    assert _names(_client(supervisor).get(URL, {"sort": sort})) == expected


def test_an_unknown_sort_falls_back_to_name(supervisor: User, people: None) -> None:
    response = _client(supervisor).get(URL, {"sort": "password"})
    assert _names(response) == ["Alice Adams", "Carla Alden", "Bob Brown"]


def test_it_paginates_fifty_a_page(supervisor: User) -> None:
    for i in range(51):
        make_participant(nino=f"QQ{i:06d}A", first_name="P", last_name=f"Person{i:02d}")
    client = _client(supervisor)
    first = client.get(URL)
    assert len(first.context["page"]) == 50
    second = client.get(URL, {"page": 2})
    assert _names(second) == ["P Person50"]


def test_it_masks_ninos_and_flags_who_cannot_log_in(supervisor: User, people: None) -> None:
    content = _client(supervisor).get(URL).content.decode()
    assert "QQ •• •• 56 C" in content
    assert "QQ123456C" not in content
    assert content.count("Can't log in: add an email and send an invitation") == 2


def test_it_flags_a_pending_version(supervisor: User, people: None) -> None:
    alice = User.objects.get(first_name="Alice").participant
    add_version(alice, town="Leeds")
    content = _client(supervisor).get(URL).content.decode()
    assert content.count("Pending version") == 1


def test_only_create_users_can_select_people_to_invite(
    importer: User, supervisor: User, people: None
) -> None:
    assert "Send invitation to selected" in _client(importer).get(URL).content.decode()
    assert "Send invitation to selected" not in _client(supervisor).get(URL).content.decode()


def test_the_list_runs_a_bounded_number_of_queries(
    supervisor: User, django_assert_max_num_queries
) -> None:
    for i in range(60):
        participant = make_participant(nino=f"QQ{i:06d}A", last_name=f"Person{i:02d}")
        if i % 3 == 0:
            add_version(participant, town="Leeds")
    client = _client(supervisor)
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"q": "person", "sort": "name"})
    assert len(response.context["page"]) == 50
