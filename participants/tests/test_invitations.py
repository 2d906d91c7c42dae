import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, make_participant
from imports.models import ImportBatch
from participants.forms import EmailForm
from participants.models import Invitation, Kind, Participant, PrapVersion, User
from participants.services import invitation_send, participant_set_email

NEW_PASSWORD = "violet-otter-lantern-42"
CANT_LOG_IN = "Can't log in: add an email and send an invitation"


def _client(user: User) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def prospect(db: None) -> Participant:
    return make_participant(nino="QQ123456C", first_name="Pat", last_name="Prospect")


def _email_url(participant: Participant) -> str:
    return reverse("participants-email", args=[participant.pk])


def _invite_url(participant: Participant) -> str:
    return reverse("participants-invite", args=[participant.pk])


def _link(message: mail.EmailMessage) -> str:
    return re.search(r"http://testserver(/participants/invitation/[^/\s]+/)", message.body)[1]


# --- Adding an email -------------------------------------------------------------


def test_a_prospect_without_email_is_flagged(supervisor: User, prospect: Participant) -> None:
    for url in ("participants-prap", "participants-account"):
        content = _client(supervisor).get(reverse(url, args=[prospect.pk])).content.decode()
        assert CANT_LOG_IN in content


def test_create_users_adds_an_email_and_a_guid_username_follows(
    importer: User, prospect: Participant
) -> None:
    assert prospect.user.has_guid_username
    client = _client(importer)
    response = client.post(_email_url(prospect), {"email": "Pat@Example.COM"})
    assert response.status_code == 302
    prospect.user.refresh_from_db()
    assert (prospect.user.email, prospect.user.username) == ("pat@example.com", "pat@example.com")
    content = client.get(response.url).content.decode()
    assert "Email saved. You can now send an invitation." in content
    assert CANT_LOG_IN not in content


def test_changing_an_email_keeps_a_username_that_is_not_a_guid(importer: User) -> None:
    prospect = make_participant(email="old@example.com")
    _client(importer).post(_email_url(prospect), {"email": "new@example.com"})
    prospect.user.refresh_from_db()
    assert (prospect.user.email, prospect.user.username) == ("new@example.com", "old@example.com")


def test_a_malformed_email_is_refused(importer: User, prospect: Participant) -> None:
    response = _client(importer).post(_email_url(prospect), {"email": "pat at example"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}


@pytest.mark.parametrize("taken", ["TAKEN@example.com", "taken-login@EXAMPLE.com"])
def test_an_email_held_by_another_person_is_refused(
    importer: User, prospect: Participant, taken: str
) -> None:
    other = make_participant(nino="AB123456A", email="taken@example.com")
    other.user.username = "taken-login@example.com"
    other.user.save()
    response = _client(importer).post(_email_url(prospect), {"email": taken})
    assert response.context["form"].errors == {
        "email": ["A person with this email already exists."]
    }
    prospect.user.refresh_from_db()
    assert prospect.user.email == ""


@pytest.mark.parametrize("role", ["supervisor", "compliance", "version_setter"])
def test_only_create_users_may_change_an_email(
    request: pytest.FixtureRequest, role: str, prospect: Participant
) -> None:
    client = _client(request.getfixturevalue(role))
    assert (
        "Add an email"
        not in client.get(reverse("participants-account", args=[prospect.pk])).content.decode()
    )
    assert client.post(_email_url(prospect), {"email": "pat@example.com"}).status_code == 404
    assert client.post(_invite_url(prospect)).status_code == 404
    prospect.user.refresh_from_db()
    assert prospect.user.email == ""


@pytest.mark.parametrize("role", ["outsider", "learner"])
def test_others_get_404_on_email_and_invite(
    request: pytest.FixtureRequest, role: str, prospect: Participant
) -> None:
    client = _client(request.getfixturevalue(role))
    assert client.get(reverse("participants-account", args=[prospect.pk])).status_code == 404
    assert client.post(_email_url(prospect), {"email": "pat@example.com"}).status_code == 404
    assert client.post(_invite_url(prospect)).status_code == 404


def test_two_staff_adding_the_same_email_at_once_one_wins(importer: User) -> None:
    first = make_participant(nino="QQ111111A")
    second = make_participant(nino="QQ222222B")
    # Both forms are checked before either is saved, as in two requests at once.
    first_form = EmailForm({"email": "same@example.com"}, user_id=first.user_id)
    second_form = EmailForm({"email": "SAME@example.com"}, user_id=second.user_id)
    assert first_form.is_valid() and second_form.is_valid()
    participant_set_email(
        participant=first, email=first_form.cleaned_data["email"], changed_by=importer
    )
    with pytest.raises(ValidationError) as exc:
        participant_set_email(
            participant=second, email=second_form.cleaned_data["email"], changed_by=importer
        )
    assert exc.value.messages == ["A person with this email already exists."]
    second.user.refresh_from_db()
    assert second.user.email == ""
    assert second.user.has_guid_username


# --- Sending invitations ---------------------------------------------------------


def test_an_invitation_is_emailed_with_a_single_use_link(
    importer: User, prospect: Participant
) -> None:
    participant_set_email(participant=prospect, email="pat@example.com", changed_by=importer)
    response = _client(importer).post(_invite_url(prospect), follow=True)
    assert "Invitation sent to pat@example.com." in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["pat@example.com"]
    assert message.subject == "Your PRaP Portal invitation"
    assert message.body.startswith("Hello Pat,")
    # Nothing personal beyond the first name.
    for private in ("Prospect", "QQ", "Restart Scheme", "pat@example.com"):
        assert private not in message.body
    token = _link(message).rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert (invitation.sent_to, invitation.created_by) == ("pat@example.com", importer)
    expected = timezone.now() + datetime.timedelta(days=7)
    assert abs(invitation.expires_at - expected) < datetime.timedelta(minutes=1)


def test_the_expiry_follows_the_setting(
    importer: User, prospect: Participant, settings: pytest.FixtureRequest
) -> None:
    settings.INVITATION_EXPIRY_DAYS = 2
    participant_set_email(participant=prospect, email="pat@example.com", changed_by=importer)
    invitation = invitation_send(user=prospect.user, sent_by=importer, base_url="http://x/")
    expected = timezone.now() + datetime.timedelta(days=2)
    assert abs(invitation.expires_at - expected) < datetime.timedelta(minutes=1)


def test_a_prospect_without_email_cannot_be_invited(importer: User, prospect: Participant) -> None:
    response = _client(importer).post(_invite_url(prospect), follow=True)
    assert "Pat Prospect has no email: add one first." in response.content.decode()
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_resending_revokes_the_earlier_link(importer: User, prospect: Participant) -> None:
    participant_set_email(participant=prospect, email="pat@example.com", changed_by=importer)
    client = _client(importer)
    client.post(_invite_url(prospect))
    client.post(_invite_url(prospect))
    first_link, second_link = _link(mail.outbox[0]), _link(mail.outbox[1])
    first, second = Invitation.objects.order_by("created_at", "pk")
    assert first.revoked_at is not None and second.revoked_at is None
    response = Client().get(first_link)
    assert response.status_code == 410
    assert "This invitation link has been replaced by a newer one." in response.content.decode()
    assert Client().get(second_link).status_code == 200


def test_the_profile_shows_invitations_sent_resent_and_accepted(
    importer: User, prospect: Participant
) -> None:
    participant_set_email(participant=prospect, email="pat@example.com", changed_by=importer)
    client = _client(importer)
    client.post(_invite_url(prospect))
    client.post(_invite_url(prospect))
    Client().post(
        _link(mail.outbox[1]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    content = client.get(reverse("participants-account", args=[prospect.pk])).content.decode()
    assert "<td>Sent</td>" in content
    assert "<td>Resent</td>" in content
    assert content.count("<td>Ivy Staff</td>") == 2
    assert "Replaced " in content
    assert "Accepted " in content


def test_invite_selected_from_the_list(importer: User) -> None:
    with_email = make_participant(nino="QQ111111A", first_name="Ann", email="ann@example.com")
    without = make_participant(nino="QQ222222B", first_name="Ben", last_name="Bell")
    client = _client(importer)
    response = client.post(
        reverse("participants-invite-selected"),
        {"ids": [with_email.pk, without.pk], "next": "/participants/?q=a"},
    )
    assert response.url == "/participants/?q=a"
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    content = client.get(response.url).content.decode()
    assert "Invitations sent: 1." in content
    assert "Not invited: Ben Bell has no email: add one first." in content


def test_invite_selected_ignores_an_unsafe_next(importer: User) -> None:
    person = make_participant(email="ann@example.com")
    response = _client(importer).post(
        reverse("participants-invite-selected"),
        {"ids": [person.pk], "next": "https://evil.example/"},
    )
    assert response.url == reverse("participants-list")


@pytest.mark.parametrize("role", ["supervisor", "outsider", "learner"])
def test_invite_selected_is_404_without_create_users(
    request: pytest.FixtureRequest, role: str, db: None
) -> None:
    person = make_participant(email="ann@example.com")
    client = _client(request.getfixturevalue(role))
    assert (
        client.post(reverse("participants-invite-selected"), {"ids": [person.pk]}).status_code
        == 404
    )
    assert mail.outbox == []


# --- Inviting a batch's new prospects ----------------------------------------------


@pytest.fixture
def batch(importer: User) -> ImportBatch:
    return ImportBatch.objects.create(uploaded_by=importer, file_name="referrals.zip")


def _from_batch(participant: Participant, batch: ImportBatch) -> Participant:
    PrapVersion.objects.filter(participant=participant, number=1).update(batch=batch)
    return participant


def test_invite_batch_invites_its_new_prospects_with_an_email(
    importer: User, batch: ImportBatch
) -> None:
    _from_batch(make_participant(nino="QQ111111A", email="new@example.com"), batch)
    _from_batch(make_participant(nino="QQ222222B"), batch)  # no email
    _from_batch(
        make_participant(nino="QQ333333C", email="learner@example.com", kind=Kind.LEARNER), batch
    )
    make_participant(nino="QQ444444D", email="other-batch@example.com")
    updated = make_participant(nino="QQ555555A", email="updated@example.com")
    PrapVersion.objects.create(
        participant=updated, number=2, status="pending", batch=batch, nino="QQ555555A"
    )
    url = reverse("participants-invite-batch", args=[batch.pk])
    response = _client(importer).post(url, follow=True)
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert "Invitations sent to 1 new prospects with an email." in response.content.decode()


def test_invite_batch_answers_only_post(importer: User, batch: ImportBatch) -> None:
    url = reverse("participants-invite-batch", args=[batch.pk])
    assert _client(importer).get(url).status_code == 405


def test_invite_batch_is_404_for_an_unknown_batch(importer: User) -> None:
    url = reverse("participants-invite-batch", args=[999])
    assert _client(importer).post(url).status_code == 404


@pytest.mark.parametrize(
    "role", ["supervisor", "compliance", "version_setter", "outsider", "learner"]
)
def test_invite_batch_is_404_without_create_users(
    request: pytest.FixtureRequest, role: str, batch: ImportBatch
) -> None:
    _from_batch(make_participant(nino="QQ111111A", email="new@example.com"), batch)
    url = reverse("participants-invite-batch", args=[batch.pk])
    assert _client(request.getfixturevalue(role)).post(url).status_code == 404
    assert mail.outbox == []


# --- Accepting -----------------------------------------------------------------------


@pytest.fixture
def invited(importer: User, prospect: Participant) -> str:
    participant_set_email(participant=prospect, email="pat@example.com", changed_by=importer)
    invitation_send(user=prospect.user, sent_by=importer, base_url="http://testserver/")
    return _link(mail.outbox[-1])


def test_the_link_sets_a_password_makes_a_learner_and_logs_in(
    invited: str, prospect: Participant
) -> None:
    client = Client()
    page = client.get(invited)
    assert "Welcome, Pat" in page.content.decode()
    response = client.post(
        invited, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("participants-me")
    assert response.context["user"] == prospect.user
    content = response.content.decode()
    assert "Your password is set. Next time, sign in with the username pat@example.com." in content
    user = User.objects.get(pk=prospect.user_id)
    assert user.kind == Kind.LEARNER
    assert user.check_password(NEW_PASSWORD)
    assert Invitation.objects.get().used_at is not None
    assert Client().login(username="pat@example.com", password=NEW_PASSWORD)


def test_password_validators_apply(invited: str, prospect: Participant) -> None:
    response = Client().post(invited, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    errors = response.context["form"].errors["new_password2"]
    assert "This password is too common." in errors
    assert "This password is entirely numeric." in errors
    assert User.objects.get(pk=prospect.user_id).kind == Kind.PROSPECT


def test_a_used_link_says_so_and_offers_nothing_else(invited: str) -> None:
    Client().post(invited, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    for response in (
        Client().get(invited),
        Client().post(
            invited, {"new_password1": "x" + NEW_PASSWORD, "new_password2": "x" + NEW_PASSWORD}
        ),
    ):
        assert response.status_code == 410
        content = response.content.decode()
        assert "This invitation link has already been used." in content
        assert "<form" not in content
    user = User.objects.get(email="pat@example.com")
    assert user.check_password(NEW_PASSWORD)


def test_an_expired_link_says_so(invited: str) -> None:
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = Client().post(
        invited, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert "This invitation link has expired." in response.content.decode()
    assert User.objects.get(email="pat@example.com").kind == Kind.PROSPECT


def test_an_unknown_link_is_404(db: None) -> None:
    url = reverse("participants-accept-invitation", args=["not-a-real-token"])
    response = Client().get(url)
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()
