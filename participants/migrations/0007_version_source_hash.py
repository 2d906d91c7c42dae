"""The digest of the record each version was imported from, indexed where kept.

Versions imported before have none: the first import that brings their data
again validates it afresh, as before.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0006_restore_one_applied_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="prapversion",
            name="source_hash",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddIndex(
            model_name="prapversion",
            index=models.Index(
                condition=models.Q(("source_hash", ""), _negated=True),
                fields=["source_hash"],
                name="version_source_hash_idx",
            ),
        ),
    ]
