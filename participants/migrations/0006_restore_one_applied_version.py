"""Restore the database's guarantee of at most one applied version per person.

Migration 0004 took the plain index off ``PrapVersion.participant``. On
PostgreSQL, Django dropped every single-column index on ``participant_id`` it
found, and with it the partial unique index ``version_one_applied`` that the
model's constraint declares. The model state still has the constraint, so this
migration only creates it where the database lacks it.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CONSTRAINT = "version_one_applied"


def _restore(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    version = apps.get_model("participants", "PrapVersion")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        present = connection.introspection.get_constraints(cursor, version._meta.db_table)
    if CONSTRAINT in present:
        return
    (constraint,) = (c for c in version._meta.constraints if c.name == CONSTRAINT)
    schema_editor.add_constraint(version, constraint)


class Migration(migrations.Migration):
    dependencies = [("participants", "0005_fewer_pattern_indexes")]

    operations = [migrations.RunPython(_restore, migrations.RunPython.noop)]
