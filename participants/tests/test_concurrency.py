"""Two staff acting at the same moment, on real separate connections (PostgreSQL only).

Services are called directly: permissions are the views' business, and a
transactional test starts without the seeded role groups.
"""

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from conftest import make_participant, make_staff
from participants.forms import EmailForm
from participants.models import User, VersionStatus
from participants.services import participant_set_email, version_apply
from participants.tests.factories import add_version

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks and concurrent connections"
    ),
]


def _race(*actions: Callable[[], None]) -> list[str]:
    """Run the actions in threads released together; return the refusals' messages."""
    barrier = threading.Barrier(len(actions))
    refusals: list[str] = []

    def run(action: Callable[[], None]) -> None:
        try:
            barrier.wait()
            action()
        except ValidationError as exc:
            refusals.extend(exc.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refusals


def test_two_staff_adding_the_same_email_one_wins() -> None:
    staff = make_staff("ivy")
    people = [make_participant(nino="QQ111111A"), make_participant(nino="QQ222222B")]
    forms = [EmailForm({"email": "same@example.com"}, user_id=p.user_id) for p in people]
    assert all(form.is_valid() for form in forms)

    def add(index: int) -> Callable[[], None]:
        return lambda: participant_set_email(
            participant=people[index], email="same@example.com", changed_by=staff
        )

    assert _race(add(0), add(1)) == ["A person with this email already exists."]
    emails = User.objects.filter(pk__in=[p.user_id for p in people]).values_list("email")
    assert sorted(e for (e,) in emails) == ["", "same@example.com"]


def test_two_applies_at_once_leave_one_applied_version() -> None:
    staff = make_staff("vic")
    person = make_participant()
    second = add_version(person, number=2, town="Leeds")
    third = add_version(person, number=3, town="York")
    refusals = _race(
        lambda: version_apply(version=second, user=staff),
        lambda: version_apply(version=third, user=staff),
    )
    assert refusals == []
    statuses = list(person.versions.values_list("status", flat=True))
    assert statuses.count(VersionStatus.APPLIED) == 1
    assert statuses.count(VersionStatus.RETAINED) == 2
