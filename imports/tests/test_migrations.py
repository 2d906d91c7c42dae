"""Migrations that move data: what they move arrives."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("imports", "0004_batch_heartbeat")]
AFTER = [("imports", "0005_staged_rows_unchecked_outcomes")]


def _migrate(targets: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_results_of_imported_batches_move_to_row_outcomes() -> None:
    old = _migrate(BEFORE)
    try:
        user = old.get_model("participants", "User").objects.create(username="importer")
        batch = old.get_model("imports", "ImportBatch").objects.create(
            uploaded_by=user, file_name="bundle.zip"
        )
        batch_file = old.get_model("imports", "BatchFile").objects.create(batch=batch, path="a.csv")
        staged = old.get_model("imports", "StagedRow").objects
        row = dict(batch=batch, file=batch_file, status="accepted", action="create")
        created = staged.create(line=2, result="created", result_username="ann@example.com", **row)
        staged.create(line=3, result="", **row)  # validated, never imported

        new = _migrate(AFTER)
        outcomes = new.get_model("imports", "RowOutcome").objects.values_list(
            "row_id", "batch_id", "result", "username"
        )
        assert list(outcomes) == [(created.pk, batch.pk, "created", "ann@example.com")]
        assert new.get_model("imports", "StagedRow").objects.get(
            pk=created.pk
        ).planned_username == ("ann@example.com")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
