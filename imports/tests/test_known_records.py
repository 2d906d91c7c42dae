"""Records imported before are known by their source digest and not validated again.

A re-import stages such a record as unchanged straight from the version it
made, so every case here checks two things: what the report says, and whether
the field rules ran over the record again.
"""

from __future__ import annotations

import pytest

from imports.models import RowIssue, StagedRow
from imports.pipeline import digest, staging
from imports.pipeline.rules import apply_rules
from participants.models import Participant, PrapData, PrapVersion, User

from .bundles import bundle_of, row

_COMPARED = ("line", "status", "action", *PrapData.DATA_FIELDS, "extra", "data_hash")


@pytest.fixture
def validated_afresh(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of records the field rules ran over, one entry a chunk."""
    counts: list[int] = []

    def counting_rules(frame, **kwargs):
        counts.append(len(frame))
        return apply_rules(frame, **kwargs)

    monkeypatch.setattr(staging, "apply_rules", counting_rules)
    return counts


def staged(batch) -> list[tuple[object, ...]]:
    return list(StagedRow.objects.filter(batch=batch).order_by("line").values_list(*_COMPARED))


def codes(batch) -> list[str]:
    return sorted(RowIssue.objects.filter(batch=batch).values_list("code", flat=True))


def test_a_re_import_stages_known_records_as_they_were_without_validating_them(
    validate, commit, validated_afresh
):
    content = bundle_of(row(1), row(2, Telephone_Number="029 2000 0000"), row(3, Email_Address=""))
    first = validate(content)
    commit(first)
    validated_afresh.clear()

    again = validate(content, update_by_nino=True)

    assert sum(validated_afresh) == 0
    assert [values[2] for values in staged(again)] == ["unchanged"] * 3
    expected = [(line, status, "unchanged", *rest) for line, status, _, *rest in staged(first)]
    assert staged(again) == expected
    assert set(
        StagedRow.objects.filter(batch=again).values_list("matched_participant", flat=True)
    ) == set(Participant.objects.values_list("id", flat=True))
    assert again.accepted_count == 3
    assert commit(again).unchanged_count == 3


def test_only_records_the_rules_found_no_fault_with_are_known_later(
    validate, commit, validated_afresh
):
    content = bundle_of(row(1), row(2, National_Insurance_Number="QQ000002"))
    first = validate(content)
    assert codes(first) == ["nino.no_suffix"]
    commit(first)
    sources = dict(PrapVersion.objects.values_list("participant__nino", "source_hash"))
    assert sources["QQ000001C"] != ""
    assert sources["QQ000002"] == ""
    validated_afresh.clear()

    again = validate(content, update_by_nino=True)

    assert sum(validated_afresh) == 1
    assert codes(again) == ["nino.no_suffix"]
    assert set(StagedRow.objects.filter(batch=again).values_list("action", flat=True)) == {
        "unchanged"
    }


def test_a_known_record_twice_in_a_bundle_is_a_duplicate_as_before(
    validate, commit, validated_afresh, monkeypatch
):
    commit(validate(bundle_of(row(1))))
    content = bundle_of(row(1), row(1))
    validated_afresh.clear()
    known = validate(content, update_by_nino=True)
    assert sum(validated_afresh) == 0
    monkeypatch.setattr(digest, "SOURCE_RULES_REVISION", "next")
    afresh = validate(content, update_by_nino=True)
    assert sum(validated_afresh) == 2
    assert codes(known) == codes(afresh) == ["nino.duplicate"] * 2 + ["po_number.duplicate"] * 2
    assert known.accepted_count == afresh.accepted_count == 0


def test_a_person_whose_nino_changed_since_is_matched_afresh(validate, commit, validated_afresh):
    commit(validate(bundle_of(row(1))))
    Participant.objects.update(nino="QQ999999C")
    validated_afresh.clear()
    again = validate(bundle_of(row(1)), update_by_nino=True)
    assert sum(validated_afresh) == 1
    assert codes(again) == ["email.taken"]


def test_a_person_whose_email_changed_since_is_matched_afresh(validate, commit, validated_afresh):
    commit(validate(bundle_of(row(1))))
    User.objects.filter(participant__isnull=False).update(email="new@example.com")
    validated_afresh.clear()
    again = validate(bundle_of(row(1)), update_by_nino=True)
    assert sum(validated_afresh) == 1
    assert StagedRow.objects.get(batch=again).action == "unchanged"


@pytest.mark.parametrize(
    ("options", "email", "code"),
    [
        ({"create_new": True}, "alice1@example.com", "match.exists"),
        ({"update_by_email": True, "create_new": False}, "", "match.exists"),
    ],
)
def test_options_that_allow_no_update_leave_a_known_record_to_matching(
    validate, commit, validated_afresh, options, email, code
):
    content = bundle_of(row(1, Email_Address=email))
    commit(validate(content))
    validated_afresh.clear()
    again = validate(content, **options)
    assert sum(validated_afresh) == 1
    assert codes(again) == [code]


def test_update_by_email_alone_knows_a_record_whose_email_is_its_persons(
    validate, commit, validated_afresh
):
    content = bundle_of(row(1))
    commit(validate(content))
    validated_afresh.clear()
    again = validate(content, update_by_email=True, create_new=False)
    assert sum(validated_afresh) == 0
    assert StagedRow.objects.get(batch=again).action == "unchanged"


def test_a_person_updated_by_hand_since_is_not_known(validate, commit, validated_afresh):
    # The person holds the data of version 2 now: version 1's record is a change again.
    first = bundle_of(row(1))
    commit(validate(first))
    version = PrapVersion.objects.get(participant__nino="QQ000001C")
    PrapVersion.objects.filter(pk=version.pk).update(status="retained")
    PrapVersion.objects.create(
        participant=version.participant, number=2, status="applied", nino="QQ000001C"
    )
    validated_afresh.clear()
    again = validate(first, update_by_nino=True)
    assert sum(validated_afresh) == 1
    assert StagedRow.objects.get(batch=again).action == "update"


def test_a_new_rules_revision_validates_every_record_again(
    validate, commit, validated_afresh, monkeypatch
):
    content = bundle_of(row(1), row(2))
    commit(validate(content))
    monkeypatch.setattr(digest, "SOURCE_RULES_REVISION", "next")
    validated_afresh.clear()
    again = validate(content, update_by_nino=True)
    assert sum(validated_afresh) == 2
    assert set(StagedRow.objects.filter(batch=again).values_list("action", flat=True)) == {
        "unchanged"
    }


def test_source_digests_tell_columns_and_cells_apart():
    hashes = digest.source_hashes(["first_name", "last_name"], [["Ann", "Lee"], ["Ann", "Lee"]])
    assert hashes[0] == hashes[1] != ""
    assert digest.source_hashes(["last_name", "first_name"], [["Ann", "Lee"]]) != hashes[:1]
    assert digest.source_hashes(["first_name", "last_name"], [["Ann", "Le e"]]) != hashes[:1]
    assert digest.source_hashes(["first_name", "last_name"], [["An\0n", "Lee"]]) == [""]
