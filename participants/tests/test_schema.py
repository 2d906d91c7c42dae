"""The database's last line of defence on people, and the indexes their tables carry."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from conftest import make_participant
from participants.models import PrapVersion, User, VersionStatus

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_user_with_the_same_username() -> None:
    User.objects.create(username="ann@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ann@example.com")


def test_a_taken_username_is_refused_with_the_username_message() -> None:
    User.objects.create(username="ann@example.com")
    with pytest.raises(ValidationError) as exc:
        User(username="ann@example.com").validate_constraints()
    assert exc.value.message_dict == {"username": ["A user with that username already exists."]}


def test_the_email_stays_unique_ignoring_case() -> None:
    User.objects.create(username="ann", email="Ann@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ann2", email="ann@example.com")


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own indexes")
def test_each_index_on_the_person_tables_serves_a_query() -> None:
    # Every index costs time for each person an import creates: a new one
    # should come with the query that reads it (see migrations 0003 and 0005).
    assert _indexes("participants_user") == {
        "participants_user_pkey",
        "user_username_unique",
        "user_username_like_idx",
        "user_email_unique_ci",
        "user_email_like_idx",
        "user_first_name_like_idx",
        "user_last_name_like_idx",
        "user_name_sort_idx",
    }
    assert _indexes("participants_participant") == {
        "participants_participant_pkey",
        "participants_participant_user_id_key",
        "participants_participant_nino_key",
        "participants_participant_nino_ab3a61c9_like",
        "participant_programme_idx",
        "participant_po_number_idx",
        "participant_po_upper_like_idx",
    }


def test_the_database_refuses_a_second_applied_version_of_a_person() -> None:
    participant = make_participant(nino="QQ000001C")  # version 1, applied
    with pytest.raises(IntegrityError), transaction.atomic():
        PrapVersion.objects.create(
            participant=participant, number=2, status=VersionStatus.APPLIED, first_name="Ann"
        )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL is the production database"
)
def test_the_database_holds_every_constraint_and_index_the_models_declare() -> None:
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label not in ("participants", "imports", "reporting"):
                continue
            present = connection.introspection.get_constraints(cursor, model._meta.db_table)
            declared = [*model._meta.constraints, *model._meta.indexes]
            missing += [f"{model.__name__}.{c.name}" for c in declared if c.name not in present]
    assert missing == []
