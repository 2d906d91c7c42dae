import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PASSWORD, make_participant, make_staff
from participants import roles
from participants.models import (
    Participant,
    PrapVersion,
    User,
    VersionEvent,
    VersionNote,
    VersionStatus,
)
from participants.services import version_apply, version_retain
from participants.tests.factories import add_version

HISTORY_ROLES = ["supervisor", "compliance", "version_setter"]
NO_HISTORY_ROLES = ["importer", "outsider", "learner"]


def _client(user: User) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def alice(db: None) -> Participant:
    return make_participant(first_name="Alice", last_name="Adams", po_number="PO-1", town="York")


@pytest.fixture
def pending(alice: Participant) -> PrapVersion:
    return add_version(
        alice,
        number=2,
        last_name="Archer",
        town="Leeds",
        programme="Work and Health",
        po_number="PO-2",
        extra={"Preferred Name": "Ali"},
    )


def _version_urls(participant: Participant, number: int) -> dict[str, str]:
    args = [participant.pk, number]
    return {
        "versions": reverse("participants-versions", args=[participant.pk]),
        "details": reverse("participants-version", args=args),
        "notes": reverse("participants-version-notes", args=args),
        "history": reverse("participants-version-history", args=args),
    }


# --- Who may see it ------------------------------------------------------------


@pytest.mark.parametrize("role", HISTORY_ROLES)
def test_history_roles_see_every_tab(
    request: pytest.FixtureRequest, role: str, alice: Participant, pending: PrapVersion
) -> None:
    client = _client(request.getfixturevalue(role))
    urls = _version_urls(alice, 2)
    assert client.get(urls["versions"]).url == urls["details"]
    for name in ("details", "notes", "history"):
        assert client.get(urls[name]).status_code == 200, name
    assert (
        "View PRaP version history"
        in client.get(reverse("participants-prap", args=[alice.pk])).content.decode()
    )


@pytest.mark.parametrize("role", NO_HISTORY_ROLES)
def test_everyone_else_gets_404_whatever_the_id(
    request: pytest.FixtureRequest, role: str, alice: Participant, pending: PrapVersion
) -> None:
    client = _client(request.getfixturevalue(role))
    for number in (2, 999):
        for url in _version_urls(alice, number).values():
            assert client.get(url).status_code == 404, url
        for action in ("apply", "retain"):
            url = reverse(f"participants-version-{action}", args=[alice.pk, number])
            assert client.post(url).status_code == 404
            assert client.get(url).status_code == 404
    assert PrapVersion.objects.get(pk=pending.pk).status == VersionStatus.PENDING


def test_the_importer_is_not_offered_the_history(importer: User, alice: Participant) -> None:
    content = _client(importer).get(reverse("participants-prap", args=[alice.pk])).content
    assert "View PRaP version history" not in content.decode()


def test_an_unknown_version_number_is_404(supervisor: User, alice: Participant) -> None:
    response = _client(supervisor).get(reverse("participants-version", args=[alice.pk, 7]))
    assert response.status_code == 404


# --- Details tab ---------------------------------------------------------------


def test_the_list_shows_each_version_with_its_menu(
    supervisor: User, alice: Participant, pending: PrapVersion
) -> None:
    content = _client(supervisor).get(_version_urls(alice, 2)["details"]).content.decode()
    assert '<summary aria-label="Actions for version 2">' in content
    assert "Apply this version" in content
    assert "Retain this version" in content
    # The applied version has nothing to apply or retain.
    assert 'aria-label="Actions for version 1"' not in content


def test_details_highlight_fields_that_differ_from_the_applied_version(
    supervisor: User, alice: Participant, pending: PrapVersion
) -> None:
    response = _client(supervisor).get(_version_urls(alice, 2)["details"])
    changed = {
        row.label: (row.old, row.value)
        for section in response.context["sections"]
        for row in section.rows
        if row.changed
    }
    assert changed == {
        "Last Name": ("Adams", "Archer"),
        "Town": ("York", "Leeds"),
        "Programme": ("Restart Scheme", "Work and Health"),
        "PO Number": ("PO-1", "PO-2"),
        "Preferred Name": ("", "Ali"),
    }
    content = response.content.decode()
    assert '<dd class="changed">' in content
    assert "Applied: York" in content


# --- Apply and retain ----------------------------------------------------------


def test_apply_makes_the_version_current_and_the_person_follows(
    version_setter: User, alice: Participant, pending: PrapVersion
) -> None:
    url = reverse("participants-version-apply", args=[alice.pk, 2])
    response = _client(version_setter).post(url)
    assert response.status_code == 302
    statuses = dict(alice.versions.values_list("number", "status"))
    assert statuses == {1: VersionStatus.RETAINED, 2: VersionStatus.APPLIED}
    pending.refresh_from_db()
    assert pending.decided_by == version_setter
    assert pending.decided_at is not None
    alice.refresh_from_db()
    alice.user.refresh_from_db()
    assert (alice.user.first_name, alice.user.last_name) == ("Alice", "Archer")
    assert (alice.programme, alice.po_number) == ("Work and Health", "PO-2")
    events = list(
        VersionEvent.objects.order_by("pk").values_list("version__number", "action", "user")
    )
    assert events == [
        (1, VersionEvent.Action.SUPERSEDED, version_setter.pk),
        (2, VersionEvent.Action.APPLIED, version_setter.pk),
    ]


def test_apply_gives_a_guid_username_the_new_email(supervisor: User, alice: Participant) -> None:
    version = add_version(alice, email="Alice.New@Example.com")
    version_apply(version=version, user=supervisor)
    alice.user.refresh_from_db()
    assert (alice.user.email, alice.user.username) == (
        "alice.new@example.com",
        "alice.new@example.com",
    )


def test_apply_keeps_a_username_that_is_not_a_guid(supervisor: User) -> None:
    bob = make_participant(nino="AB123456A", email="bob@example.com")
    version = add_version(bob, email="robert@example.com")
    version_apply(version=version, user=supervisor)
    bob.user.refresh_from_db()
    assert (bob.user.email, bob.user.username) == ("robert@example.com", "bob@example.com")


@pytest.mark.parametrize("taken", ["CARL@example.com", "carl-login@example.com"])
def test_apply_refuses_an_email_held_by_another_person(
    supervisor: User, alice: Participant, taken: str
) -> None:
    carl = make_participant(nino="AB123456A", email="carl@example.com")
    carl.user.username = "carl-login@example.com"
    carl.user.save()
    version = add_version(alice, email=taken, town="Leeds")
    client = _client(supervisor)
    response = client.post(reverse("participants-version-apply", args=[alice.pk, 2]), follow=True)
    assert (
        f"Version 2 can&#x27;t be applied: its email {taken.lower()} belongs to another person."
        in response.content.decode()
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.PENDING
    assert alice.versions.get(number=1).status == VersionStatus.APPLIED
    assert not VersionEvent.objects.exists()


def test_applying_the_applied_version_is_refused(supervisor: User, alice: Participant) -> None:
    with pytest.raises(ValidationError) as exc:
        version_apply(version=alice.versions.get(number=1), user=supervisor)
    assert exc.value.messages == ["Version 1 is already the applied version."]


def test_a_retained_version_can_be_applied_again(
    supervisor: User, alice: Participant, pending: PrapVersion
) -> None:
    version_apply(version=pending, user=supervisor)
    version_apply(version=alice.versions.get(number=1), user=supervisor)
    assert dict(alice.versions.values_list("number", "status")) == {
        1: VersionStatus.APPLIED,
        2: VersionStatus.RETAINED,
    }
    alice.user.refresh_from_db()
    assert alice.user.last_name == "Adams"


def test_retain_keeps_the_applied_version(
    compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    url = reverse("participants-version-retain", args=[alice.pk, 2])
    response = _client(compliance).post(url, follow=True)
    assert "Version 2 retained; the applied version is unchanged." in response.content.decode()
    assert dict(alice.versions.values_list("number", "status")) == {
        1: VersionStatus.APPLIED,
        2: VersionStatus.RETAINED,
    }
    alice.user.refresh_from_db()
    assert alice.user.last_name == "Adams"
    event = VersionEvent.objects.get()
    assert (event.version, event.action, event.user) == (
        pending,
        VersionEvent.Action.RETAINED,
        compliance,
    )


def test_only_a_pending_version_can_be_retained(supervisor: User, alice: Participant) -> None:
    with pytest.raises(ValidationError) as exc:
        version_retain(version=alice.versions.get(number=1), user=supervisor)
    assert exc.value.messages == ["Version 1 is applied; only a pending version can be retained."]


def test_apply_and_retain_answer_only_post(
    supervisor: User, alice: Participant, pending: PrapVersion
) -> None:
    client = _client(supervisor)
    assert client.get(reverse("participants-version-apply", args=[alice.pk, 2])).status_code == 405
    assert client.get(reverse("participants-version-retain", args=[alice.pk, 2])).status_code == 405


# --- Notes ---------------------------------------------------------------------


def test_a_note_is_added_with_author_and_audit(
    compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    url = _version_urls(alice, 2)["notes"]
    response = _client(compliance).post(url, {"text": "Checked with the work coach."}, follow=True)
    content = response.content.decode()
    assert "Checked with the work coach." in content
    assert "Cora Staff" in content
    note = VersionNote.objects.get()
    assert (note.version, note.author) == (pending, compliance)
    assert VersionEvent.objects.get().action == VersionEvent.Action.NOTE_ADDED


def test_an_empty_note_is_refused(
    compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    response = _client(compliance).post(_version_urls(alice, 2)["notes"], {"text": ""})
    assert response.status_code == 200
    assert response.context["form"].errors == {"text": ["This field is required."]}
    assert not VersionNote.objects.exists()


def _note_urls(note: VersionNote) -> tuple[str, str]:
    args = [note.version.participant_id, note.version.number, note.pk]
    return (
        reverse("participants-note-edit", args=args),
        reverse("participants-note-delete", args=args),
    )


def test_the_author_edits_and_deletes_their_note(
    compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    note = VersionNote.objects.create(version=pending, author=compliance, text="First")
    edit, delete = _note_urls(note)
    client = _client(compliance)
    assert client.post(edit, {"text": "Second"}).status_code == 302
    note.refresh_from_db()
    assert note.text == "Second"
    assert client.post(delete).status_code == 302
    assert not VersionNote.objects.exists()
    assert list(VersionEvent.objects.order_by("pk").values_list("action", flat=True)) == [
        VersionEvent.Action.NOTE_EDITED,
        VersionEvent.Action.NOTE_DELETED,
    ]


def test_a_supervisor_edits_and_deletes_anyone_s_note(
    supervisor: User, compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    note = VersionNote.objects.create(version=pending, author=compliance, text="First")
    edit, delete = _note_urls(note)
    client = _client(supervisor)
    assert client.post(edit, {"text": "Corrected"}).status_code == 302
    note.refresh_from_db()
    assert note.text == "Corrected"
    assert client.post(delete).status_code == 302
    assert not VersionNote.objects.exists()
    assert VersionEvent.objects.filter(detail="Note by Cora Staff").count() == 2


def test_others_can_neither_edit_nor_delete_a_note(
    version_setter: User, compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    note = VersionNote.objects.create(version=pending, author=compliance, text="First")
    edit, delete = _note_urls(note)
    client = _client(version_setter)
    assert "Edit</a>" not in client.get(_version_urls(alice, 2)["notes"]).content.decode()
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"text": "Changed"}).status_code == 404
    assert client.post(delete).status_code == 404
    note.refresh_from_db()
    assert note.text == "First"


def test_a_note_is_only_reached_through_its_own_version(
    compliance: User, alice: Participant, pending: PrapVersion
) -> None:
    note = VersionNote.objects.create(version=pending, author=compliance, text="First")
    url = reverse("participants-note-edit", args=[alice.pk, 1, note.pk])
    assert _client(compliance).get(url).status_code == 404


# --- History tab ---------------------------------------------------------------


def test_the_history_tab_lists_what_was_done_by_whom(
    supervisor: User, alice: Participant, pending: PrapVersion
) -> None:
    version_apply(version=pending, user=supervisor)
    content = _client(supervisor).get(_version_urls(alice, 1)["history"]).content.decode()
    assert 'Superseded <span class="muted">(Replaced by version 2)</span>' in content
    assert "Sam Staff" in content


# --- Requires attention ----------------------------------------------------------

ATTENTION = reverse("participants-attention")


@pytest.mark.parametrize("role", HISTORY_ROLES)
def test_requires_attention_lists_pending_people(
    request: pytest.FixtureRequest, role: str, alice: Participant, pending: PrapVersion
) -> None:
    response = _client(request.getfixturevalue(role)).get(ATTENTION)
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row.participant == alice
    assert row.changed == ["Last Name", "Town", "PO Number", "Programme", "Preferred Name"]
    content = response.content.decode()
    assert "Last Name, Town, PO Number, Programme, Preferred Name" in content
    assert '<span class="nav-count">1<span class="visually-hidden"> person</span></span>' in content


@pytest.mark.parametrize("role", NO_HISTORY_ROLES)
def test_requires_attention_is_404_to_others(
    request: pytest.FixtureRequest, role: str, pending: PrapVersion
) -> None:
    assert _client(request.getfixturevalue(role)).get(ATTENTION).status_code == 404


def _version_queries(client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    return [q["sql"] for q in queries if "participants_prapversion" in q["sql"]]


def test_the_nav_count_is_one_count_query_for_those_who_can_act(
    supervisor: User, pending: PrapVersion
) -> None:
    [query] = _version_queries(_client(supervisor))
    assert query.startswith("SELECT COUNT(")


def test_the_nav_count_is_not_computed_for_others(importer: User, pending: PrapVersion) -> None:
    client = _client(importer)
    assert _version_queries(client) == []
    content = client.get(reverse("participants-list")).content.decode()
    assert "Requires attention" not in content
    assert "nav-count" not in content


def test_retaining_takes_the_person_off_requires_attention(
    supervisor: User, alice: Participant, pending: PrapVersion
) -> None:
    client = _client(supervisor)
    client.post(reverse("participants-version-retain", args=[alice.pk, 2]))
    response = client.get(ATTENTION)
    assert response.context["rows"] == []
    assert "nav-count" not in response.content.decode()


def test_requires_attention_runs_a_bounded_number_of_queries(
    supervisor: User, django_assert_max_num_queries
) -> None:
    for i in range(30):
        add_version(make_participant(nino=f"QQ{i:06d}A"), town="Leeds")
    client = _client(supervisor)
    with django_assert_max_num_queries(9):
        response = client.get(ATTENTION)
    assert len(response.context["rows"]) == 30


def test_the_history_runs_a_bounded_number_of_queries(
    supervisor: User, alice: Participant, django_assert_max_num_queries
) -> None:
    for number in range(2, 20):
        add_version(alice, number=number, status=VersionStatus.RETAINED, town=f"T{number}")
    other = make_staff("nora", roles.COMPLIANCE_QA)
    version = alice.versions.get(number=5)
    for i in range(5):
        VersionNote.objects.create(version=version, author=other, text=f"Note {i}")
        VersionEvent.objects.create(
            version=version, action=VersionEvent.Action.NOTE_ADDED, user=other
        )
    client = _client(supervisor)
    for name in ("details", "notes", "history"):
        with django_assert_max_num_queries(11):
            client.get(_version_urls(alice, 5)[name])
