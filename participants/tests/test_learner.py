import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, make_participant
from participants.models import AccessLog, Participant, User
from participants.tests.factories import add_version


def _client(user: User) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def other(db: None) -> Participant:
    return make_participant(nino="CE111111A", first_name="Olive", last_name="Other")


def test_home_sends_a_learner_to_their_own_details(learner: User) -> None:
    response = _client(learner).get(reverse("home"))
    assert response.url == reverse("participants-me")


def test_home_shows_staff_the_home_page(supervisor: User) -> None:
    assert _client(supervisor).get(reverse("home")).status_code == 200


def test_a_learner_sees_their_own_four_sections_read_only(learner: User) -> None:
    response = _client(learner).get(reverse("participants-me"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1>Lena Learner</h1>" in content
    for title in (
        "Personal information",
        "Contact information",
        "Referral details",
        "Additional details",
    ):
        assert title in content
    assert "AB •• •• 56 C" in content
    assert "<form" not in content.split('<main id="main"')[1]
    assert AccessLog.objects.get().action == "view_own_details"
    assert "My details" in content
    assert "Participants</a>" not in content


def test_a_learner_gets_404_on_every_staff_url(learner: User, other: Participant) -> None:
    pending = add_version(other, town="Leeds")
    client = _client(learner)
    mine = learner.participant.pk
    gets = [
        reverse("participants-list"),
        reverse("participants-attention"),
    ]
    posts = [
        reverse("participants-invite-selected"),
        reverse("participants-invite-batch", args=[1]),
    ]
    for pk in (other.pk, mine):
        gets += [
            reverse("participants-prap", args=[pk]),
            reverse("participants-account", args=[pk]),
            reverse("participants-versions", args=[pk]),
            reverse("participants-version", args=[pk, 1]),
            reverse("participants-version-notes", args=[pk, 1]),
            reverse("participants-version-history", args=[pk, 1]),
        ]
        posts += [
            reverse("participants-reveal-nino", args=[pk]),
            reverse("participants-email", args=[pk]),
            reverse("participants-invite", args=[pk]),
            reverse("participants-version-apply", args=[pk, 2]),
            reverse("participants-version-retain", args=[pk, 2]),
        ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url).status_code == 404, url
    pending.refresh_from_db()
    assert pending.status == "pending"


@pytest.mark.parametrize("role", ["supervisor", "outsider"])
def test_staff_have_no_own_details(request: pytest.FixtureRequest, role: str, db: None) -> None:
    assert _client(request.getfixturevalue(role)).get(reverse("participants-me")).status_code == 404


def test_anonymous_is_sent_to_login_from_own_details(db: None) -> None:
    assert Client().get(reverse("participants-me")).status_code == 302
