"""Indexes for every search and sort path of the participants list.

Names are searched with ``istartswith`` (``UPPER(col) LIKE 'AL%'``), emails
with ``LOWER(email) LIKE 'x@%'`` and PO numbers with ``istartswith``. On
PostgreSQL a prefix ``LIKE`` only uses an index built with a pattern operator
class, which Django's model indexes cannot express portably, so these are plain
SQL per database. NINO and PO number prefixes already use the ``*_like``
indexes Django makes for their unique and indexed columns on PostgreSQL.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

COMMON = [
    # Sorting by name: ORDER BY last_name, first_name, id.
    ("user_name_sort_idx", "participants_user (last_name, first_name, id)"),
    # Email-or-username checks: UPPER(username) = UPPER('x@example.com').
    ("user_username_upper_idx", "participants_user (UPPER(username))"),
]
POSTGRESQL = [
    ("user_first_name_like_idx", "participants_user (UPPER(first_name) text_pattern_ops)"),
    ("user_last_name_like_idx", "participants_user (UPPER(last_name) text_pattern_ops)"),
    ("user_email_like_idx", "participants_user (LOWER(email) text_pattern_ops)"),
    (
        "participant_po_upper_like_idx",
        "participants_participant (UPPER(po_number) text_pattern_ops)",
    ),
]
OTHER = [
    ("user_first_name_upper_idx", "participants_user (UPPER(first_name))"),
    ("user_last_name_upper_idx", "participants_user (UPPER(last_name))"),
    ("user_email_lower_idx", "participants_user (LOWER(email))"),
    ("participant_po_upper_idx", "participants_participant (UPPER(po_number))"),
]


def _indexes(schema_editor: BaseDatabaseSchemaEditor) -> list[tuple[str, str]]:
    vendor_specific = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else OTHER
    return COMMON + vendor_specific


def create_indexes(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, target in _indexes(schema_editor):
        schema_editor.execute(f"CREATE INDEX {name} ON {target}")


def drop_indexes(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, _ in _indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [("participants", "0002_seed_roles")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
