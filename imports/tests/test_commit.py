"""What happens to accepted rows (spec §7), re-imports, stale reports, double commits."""

from __future__ import annotations

import uuid

import pytest

from conftest import make_participant, make_staff
from imports import services
from imports.models import BatchStatus, RowIssue, RowResult, StagedRow
from participants.models import Kind, Participant, PrapVersion, User, VersionStatus
from participants.services import version_apply

from .bundles import bundle_of, row


def issue_codes(batch) -> list[str]:
    return sorted(
        RowIssue.objects.filter(batch=batch, severity="error").values_list("code", flat=True)
    )


def test_it_creates_prospects_with_email_or_guid_usernames(validate, commit):
    batch = commit(
        validate(bundle_of(row(1, Email_Address="Ann@Example.com"), row(2, Email_Address="")))
    )
    assert (batch.status, batch.created_count) == (BatchStatus.IMPORTED, 2)
    ann = User.objects.get(email="ann@example.com")
    assert ann.username == "ann@example.com"
    assert ann.kind == Kind.PROSPECT
    assert not ann.has_usable_password()
    nameless = Participant.objects.get(nino="QQ000002C").user
    assert uuid.UUID(nameless.username) and nameless.email == ""
    version = PrapVersion.objects.get(participant__nino="QQ000001C")
    assert (version.number, version.status, version.batch_id) == (
        1,
        VersionStatus.APPLIED,
        batch.pk,
    )
    assert (version.first_name, version.postcode, version.source_line) == ("Alice", "CF10 1AA", 2)


def test_updating_a_person_without_prap_data_applies_version_one(validate, commit):
    user = User.objects.create_user(username=str(uuid.uuid4()), kind=Kind.PROSPECT)
    Participant.objects.create(user=user, nino="QQ000001C")
    batch = commit(
        validate(
            bundle_of(row(1, Programme="Connect to Work")), update_by_nino=True, create_new=False
        )
    )
    version = PrapVersion.objects.get(participant__user=user)
    assert (version.number, version.status) == (1, VersionStatus.APPLIED)
    user.refresh_from_db()
    assert (user.first_name, user.email, user.username) == (
        "Alice",
        "alice1@example.com",
        "alice1@example.com",
    )
    assert Participant.objects.get(user=user).programme == "Connect to Work"
    assert (batch.updated_count, batch.pending_count) == (1, 0)


def test_changed_data_for_a_known_person_is_stored_pending(validate, commit):
    make_participant(nino="QQ000001C", email="alice1@example.com")
    batch = commit(validate(bundle_of(row(1, Postcode="SW1A 1AA")), update_by_nino=True))
    versions = PrapVersion.objects.filter(participant__nino="QQ000001C").order_by("number")
    assert [(v.number, v.status) for v in versions] == [(1, "applied"), (2, "pending")]
    assert versions[1].postcode == "SW1A 1AA"
    assert batch.pending_count == 1
    assert StagedRow.objects.get(batch=batch).outcome.result == RowResult.PENDING


def test_importing_the_same_bundle_twice_changes_nothing_the_second_time(validate, commit):
    content = bundle_of(row(1), row(2), row(3, Email_Address=""))
    commit(validate(content))
    make_participant(nino="QQ000009C", email="other@example.com")
    second = validate(content, update_by_nino=True, update_by_email=True)
    assert set(StagedRow.objects.filter(batch=second).values_list("action", flat=True)) == {
        "unchanged"
    }
    second = commit(second)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert PrapVersion.objects.count() == 4
    assert User.objects.filter(kind=Kind.PROSPECT).count() == 4


def test_a_pending_version_is_not_stored_twice(validate, commit):
    make_participant(nino="QQ000001C", email="alice1@example.com")
    content = bundle_of(row(1, Postcode="SW1A 1AA"))
    commit(validate(content, update_by_nino=True))
    again = commit(validate(content, update_by_nino=True))
    assert again.unchanged_count == 1
    assert PrapVersion.objects.filter(status="pending").count() == 1


def test_data_of_an_older_version_than_the_applied_one_is_a_change(validate, commit, supervisor):
    first = bundle_of(row(1))
    commit(validate(first))
    commit(validate(bundle_of(row(1, Postcode="SW1A 1AA")), update_by_nino=True))
    version_apply(version=PrapVersion.objects.get(status="pending"), user=supervisor)
    again = commit(validate(first, update_by_nino=True))
    assert (again.unchanged_count, again.pending_count) == (0, 1)
    versions = PrapVersion.objects.order_by("number")
    assert [(v.number, v.status) for v in versions] == [
        (1, "retained"),
        (2, "applied"),
        (3, "pending"),
    ]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"update_by_nino": True, "create_new": False}, "match.not_found"),
        ({"update_by_nino": False, "create_new": True}, None),
    ],
)
def test_nobody_matching_creates_only_when_create_is_ticked(validate, options, code):
    batch = validate(bundle_of(row(1)), **options)
    assert issue_codes(batch) == ([code] if code else [])


def test_someone_matching_is_an_error_when_only_create_is_ticked(validate):
    make_participant(nino="QQ000001C")
    batch = validate(bundle_of(row(1)), create_new=True)
    issue = RowIssue.objects.get(batch=batch)
    assert issue.code == "match.exists"
    assert issue.message == (
        "A person with this National Insurance number already exists, and updating existing "
        "records matched by National Insurance number is not ticked."
    )


def test_nino_matching_one_person_and_email_another_is_ambiguous(validate):
    make_participant(nino="QQ000001C", email="first@example.com")
    make_participant(nino="QQ000002C", email="second@example.com")
    batch = validate(
        bundle_of(row(1, Email_Address="second@example.com")),
        update_by_nino=True,
        update_by_email=True,
    )
    assert issue_codes(batch) == ["match.ambiguous"]


def test_an_email_already_used_by_staff_is_taken(validate):
    make_staff("pat")
    batch = validate(bundle_of(row(1, Email_Address="PAT@provider.example")))
    issue = RowIssue.objects.get(batch=batch)
    assert (issue.code, issue.message) == (
        "email.taken",
        "The email pat@provider.example is already used by another person.",
    )


def test_an_email_match_with_another_nino_is_a_mismatch(validate):
    make_participant(nino="QQ000099C", email="alice1@example.com")
    batch = validate(bundle_of(row(1)), update_by_email=True, create_new=True)
    assert issue_codes(batch) == ["match.nino_mismatch"]


def test_an_email_belongs_to_the_user_holding_it_before_one_using_it_as_username(validate):
    # Pat's username is an address Pat no longer uses; Alice now holds it.
    make_participant(nino="QQ000099C", email="alice1@example.com")
    User.objects.filter(username="alice1@example.com").update(username=str(uuid.uuid4()))
    User.objects.create_user(username="alice1@example.com", email="pat@provider.example")
    batch = validate(bundle_of(row(1)), update_by_email=True, create_new=True)
    assert issue_codes(batch) == ["match.nino_mismatch"]


def test_a_re_imported_row_whose_email_is_its_own_persons_is_unchanged(validate, commit):
    # Another user's username is the same address: the person holding it as
    # their email still owns it, so the row updates nobody else.
    commit(validate(bundle_of(row(1))))
    User.objects.filter(username="alice1@example.com").update(username=str(uuid.uuid4()))
    User.objects.create_user(username="alice1@example.com", email="pat@provider.example")
    again = commit(validate(bundle_of(row(1)), update_by_nino=True))
    assert (again.unchanged_count, again.conflict_count) == (1, 0)


def test_update_by_email_alone_updates_a_person_whose_nino_and_email_agree(validate, commit):
    make_participant(nino="QQ000001C", email="alice1@example.com")
    batch = commit(
        validate(bundle_of(row(1, Postcode="SW1A 1AA")), update_by_email=True, create_new=False)
    )
    assert batch.pending_count == 1


def test_commit_rechecks_matches_so_a_stale_report_creates_no_duplicate(validate, commit, importer):
    first = validate(bundle_of(row(1)))
    second = validate(bundle_of(row(1, PO_Number="PO-77")))
    commit(first)
    second = commit(second)
    assert (second.created_count, second.conflict_count) == (0, 1)
    assert Participant.objects.filter(nino="QQ000001C").count() == 1
    staged = StagedRow.objects.get(batch=second)
    assert staged.outcome.result == RowResult.CONFLICT
    assert staged.issues.get().code == "match.exists"


def test_a_second_commit_of_the_same_batch_commits_nothing_more(validate, commit, importer):
    batch = commit(validate(bundle_of(row(1))))
    with pytest.raises(services.CommitRefused, match="already been imported"):
        services.batch_claim_commit(batch=batch, user=importer)
    assert Participant.objects.count() == 1


def test_a_claimed_batch_cannot_be_claimed_again(validate, importer):
    batch = validate(bundle_of(row(1)))
    services.batch_claim_commit(batch=batch, user=importer)
    with pytest.raises(services.CommitRefused, match="already being imported"):
        services.batch_claim_commit(batch=batch, user=importer)


def test_a_refused_batch_cannot_be_committed(validate, importer):
    batch = validate(b"not a zip")
    with pytest.raises(services.CommitRefused, match="not been validated"):
        services.batch_claim_commit(batch=batch, user=importer)
