"""The digest of each staged record as the file held it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0005_staged_rows_unchecked_outcomes"),
    ]

    operations = [
        migrations.AddField(
            model_name="stagedrow",
            name="source_hash",
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
