import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from conftest import PASSWORD, make_participant
from participants.models import AccessLog, Participant, User
from participants.tests.factories import add_version

# A 1x1 transparent GIF.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _client(user: User) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def alice(db: None) -> Participant:
    return make_participant(
        nino="QQ123456C",
        first_name="Alice",
        last_name="Adams",
        programme="Restart Scheme",
        po_number="PO-1",
        date_of_birth=datetime.date(1990, 5, 17),
        disability_status=True,
        extra={"Preferred Name": "Ali"},
    )


def _url(participant: Participant) -> str:
    return reverse("participants-prap", args=[participant.pk])


@pytest.mark.parametrize("role", ["importer", "supervisor", "compliance", "version_setter"])
def test_every_role_sees_the_tab(
    request: pytest.FixtureRequest, role: str, alice: Participant
) -> None:
    response = _client(request.getfixturevalue(role)).get(_url(alice))
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["outsider", "learner"])
def test_others_get_404(request: pytest.FixtureRequest, role: str, alice: Participant) -> None:
    assert _client(request.getfixturevalue(role)).get(_url(alice)).status_code == 404


def test_an_unknown_id_is_404(supervisor: User) -> None:
    assert _client(supervisor).get(reverse("participants-prap", args=[999])).status_code == 404


def test_the_name_card_shows_initials_name_and_programme(
    supervisor: User, alice: Participant
) -> None:
    content = _client(supervisor).get(_url(alice)).content.decode()
    assert ">AA</span>" in content
    assert "<h1>Alice Adams</h1>" in content
    assert "Enrolled on Restart Scheme" in content


@override_settings(MEDIA_ROOT="/tmp/prap-portal-test-media")
def test_the_name_card_shows_an_uploaded_avatar(supervisor: User, alice: Participant) -> None:
    alice.user.avatar = SimpleUploadedFile("alice.gif", GIF, content_type="image/gif")
    alice.user.save()
    content = _client(supervisor).get(_url(alice)).content.decode()
    assert f'src="{alice.user.avatar.url}"' in content
    assert ">AA</span>" not in content


def test_it_shows_the_four_sections_with_contract_labels(
    supervisor: User, alice: Participant
) -> None:
    response = _client(supervisor).get(_url(alice))
    sections = response.context["sections"]
    assert [s.title for s in sections] == [
        "Personal information",
        "Contact information",
        "Referral details",
        "Additional details",
    ]
    rows = {row.label: row.value for s in sections for row in s.rows}
    assert rows["Date of Birth"] == "17 May 1990"
    assert rows["Disability Status"] == "Yes"
    assert rows["Incident Marker"] == ""
    assert rows["Preferred Name"] == "Ali"
    content = response.content.decode()
    assert "<dt>Welsh Language</dt>" in content
    assert "<dt>Preferred Name</dt>" in content
    assert "Not provided" in content


def test_the_nino_is_masked_and_the_view_is_logged(supervisor: User, alice: Participant) -> None:
    content = _client(supervisor).get(_url(alice)).content.decode()
    assert "QQ •• •• 56 C" in content
    assert "QQ 12 34 56 C" not in content
    log = AccessLog.objects.get()
    assert (log.user, log.participant, log.action) == (supervisor, alice, "view_prap_details")


@pytest.mark.parametrize("role", ["supervisor", "compliance"])
def test_allowed_roles_reveal_the_nino_and_it_is_logged(
    request: pytest.FixtureRequest, role: str, alice: Participant
) -> None:
    user = request.getfixturevalue(role)
    client = _client(user)
    assert "Reveal National Insurance number" in client.get(_url(alice)).content.decode()
    response = client.post(reverse("participants-reveal-nino", args=[alice.pk]))
    assert response.status_code == 200
    assert "QQ 12 34 56 C" in response.content.decode()
    reveal = AccessLog.objects.get(action="reveal_nino")
    assert (reveal.user, reveal.participant, reveal.detail) == (
        user,
        alice,
        "National Insurance number",
    )


@pytest.mark.parametrize("role", ["importer", "version_setter", "outsider", "learner"])
def test_others_cannot_reveal_the_nino(
    request: pytest.FixtureRequest, role: str, alice: Participant
) -> None:
    client = _client(request.getfixturevalue(role))
    response = client.post(reverse("participants-reveal-nino", args=[alice.pk]))
    assert response.status_code == 404
    assert not AccessLog.objects.filter(action="reveal_nino").exists()


def test_reveal_answers_only_post(supervisor: User, alice: Participant) -> None:
    response = _client(supervisor).get(reverse("participants-reveal-nino", args=[alice.pk]))
    assert response.status_code == 405


def test_a_pending_version_shows_a_banner_linking_to_history(
    supervisor: User, importer: User, alice: Participant
) -> None:
    add_version(alice, town="Leeds")
    history = reverse("participants-versions", args=[alice.pk])
    content = _client(supervisor).get(_url(alice)).content.decode()
    assert "A new PRaP version is waiting for a decision." in content
    assert f'href="{history}"' in content
    importer_content = _client(importer).get(_url(alice)).content.decode()
    assert "A new PRaP version is waiting for a decision." in importer_content
    assert f'href="{history}"' not in importer_content


def test_no_banner_without_a_pending_version(supervisor: User, alice: Participant) -> None:
    content = _client(supervisor).get(_url(alice)).content.decode()
    assert "waiting for a decision" not in content


def test_the_tab_runs_a_bounded_number_of_queries(
    supervisor: User, alice: Participant, django_assert_max_num_queries
) -> None:
    for number in range(2, 12):
        add_version(alice, number=number, status="retained", town=f"Town {number}")
    client = _client(supervisor)
    with django_assert_max_num_queries(10):
        client.get(_url(alice))
