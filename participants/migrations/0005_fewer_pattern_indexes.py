"""Drop indexes that are written for every new person but read by no query.

On PostgreSQL Django gives every ``unique=True`` or ``db_index=True`` text
column a second, ``varchar_pattern_ops`` index for case-sensitive ``LIKE``. No
query runs one on username, programme or PO number: username and PO number
prefixes are searched case-insensitively through the ``UPPER(...)
text_pattern_ops`` indexes, programme is only compared whole. The models now
declare these columns' unique constraint and indexes in ``Meta``, which makes
no such copy, so this migration drops the three copies.

The remaining indexes are renamed to the models' names rather than rebuilt,
and on SQLite a changed field would rebuild the table and lose the indexes of
migration 0003, so the schema changes are plain SQL per database and Django
records the new model state separately.

``UPPER(username)`` is now indexed with ``text_pattern_ops``: it still serves
the equality checks (matching, email in use) and also serves the access log's
username prefix search.
"""

import django.contrib.auth.validators
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

POSTGRESQL_FORWARDS = [
    "DROP INDEX participants_user_username_5abfaecc_like",
    "DROP INDEX participants_participant_programme_2133343b_like",
    "DROP INDEX participants_participant_po_number_b1e50fae_like",
    "ALTER TABLE participants_user "
    "RENAME CONSTRAINT participants_user_username_key TO user_username_unique",
    "ALTER INDEX participants_participant_programme_2133343b RENAME TO participant_programme_idx",
    "ALTER INDEX participants_participant_po_number_b1e50fae RENAME TO participant_po_number_idx",
    "DROP INDEX user_username_upper_idx",
    "CREATE INDEX user_username_like_idx ON participants_user (UPPER(username) text_pattern_ops)",
]
POSTGRESQL_BACKWARDS = [
    "DROP INDEX user_username_like_idx",
    "CREATE INDEX user_username_upper_idx ON participants_user (UPPER(username))",
    "ALTER INDEX participant_po_number_idx RENAME TO participants_participant_po_number_b1e50fae",
    "ALTER INDEX participant_programme_idx RENAME TO participants_participant_programme_2133343b",
    "ALTER TABLE participants_user "
    "RENAME CONSTRAINT user_username_unique TO participants_user_username_key",
    "CREATE INDEX participants_participant_po_number_b1e50fae_like "
    "ON participants_participant (po_number varchar_pattern_ops)",
    "CREATE INDEX participants_participant_programme_2133343b_like "
    "ON participants_participant (programme varchar_pattern_ops)",
    "CREATE INDEX participants_user_username_5abfaecc_like "
    "ON participants_user (username varchar_pattern_ops)",
]
# Elsewhere there are no pattern copies; the username stays unique through the
# table's own UNIQUE clause, and the two indexes take the models' names.
OTHER_FORWARDS = [
    "DROP INDEX participants_participant_programme_2133343b",
    "CREATE INDEX participant_programme_idx ON participants_participant (programme)",
    "DROP INDEX participants_participant_po_number_b1e50fae",
    "CREATE INDEX participant_po_number_idx ON participants_participant (po_number)",
]
OTHER_BACKWARDS = [
    "DROP INDEX participant_po_number_idx",
    "CREATE INDEX participants_participant_po_number_b1e50fae "
    "ON participants_participant (po_number)",
    "DROP INDEX participant_programme_idx",
    "CREATE INDEX participants_participant_programme_2133343b "
    "ON participants_participant (programme)",
]


def _run(schema_editor: BaseDatabaseSchemaEditor, postgresql: list[str], other: list[str]) -> None:
    statements = postgresql if schema_editor.connection.vendor == "postgresql" else other
    for statement in statements:
        schema_editor.execute(statement)


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, POSTGRESQL_FORWARDS, OTHER_FORWARDS)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, POSTGRESQL_BACKWARDS, OTHER_BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("participants", "0004_fewer_write_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="participant",
                    name="po_number",
                    field=models.CharField(blank=True, max_length=30, verbose_name="PO Number"),
                ),
                migrations.AlterField(
                    model_name="participant",
                    name="programme",
                    field=models.CharField(blank=True, max_length=100),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="username",
                    field=models.CharField(
                        error_messages={"unique": "A user with that username already exists."},
                        help_text=(
                            "Required. 150 characters or fewer. "
                            "Letters, digits and @/./+/-/_ only."
                        ),
                        max_length=150,
                        validators=[django.contrib.auth.validators.UnicodeUsernameValidator()],
                        verbose_name="username",
                    ),
                ),
                migrations.AddIndex(
                    model_name="participant",
                    index=models.Index(fields=["programme"], name="participant_programme_idx"),
                ),
                migrations.AddIndex(
                    model_name="participant",
                    index=models.Index(fields=["po_number"], name="participant_po_number_idx"),
                ),
                migrations.AddConstraint(
                    model_name="user",
                    constraint=models.UniqueConstraint(
                        fields=("username",), name="user_username_unique"
                    ),
                ),
            ],
        )
    ]
