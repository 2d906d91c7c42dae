"""Commits racing, connections dying and workers killed, on PostgreSQL: nothing partial.

Each actor works on its own database connection (a thread, or a separate
process for the killed worker). Transactional tests empty the database between
tests; ``make_staff`` seeds the roles again.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.utils import timezone

from conftest import make_participant, make_staff
from imports import services
from imports.models import BatchStatus, ImportBatch, RowResult, StagedRow
from participants import roles
from participants.models import Participant, PrapVersion, User

from .bundles import bundle_of, csv_bytes, row, upload, zip_bytes

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections"),
]


def validated(user: User, content: bytes) -> ImportBatch:
    batch = services.batch_create(
        uploaded_by=user,
        upload=upload(content),
        update_by_nino=False,
        update_by_email=False,
        create_new=True,
    )
    batch = services.batch_validate(batch=batch)
    assert batch.status == BatchStatus.VALIDATED
    return batch


def many_rows(count: int, start: int = 1) -> bytes:
    return zip_bytes({"a.csv": csv_bytes([row(n) for n in range(start, start + count)])})


def claim_and_commit(batch_id: int, user: User) -> Callable[[], object]:
    def run() -> object:
        batch = ImportBatch.objects.get(pk=batch_id)
        return services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=user))

    return run


def race(*actions: Callable[[], object]) -> list[object]:
    """Run the actions in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(index: int, action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes[index] = action()
        except Exception as error:  # noqa: BLE001 - the test looks at what each actor met
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def importer_t() -> User:
    return make_staff("ivy", roles.CREATE_USERS)


def test_two_commits_of_one_batch_import_it_once(importer_t):
    batch = validated(importer_t, many_rows(300))
    outcomes = race(claim_and_commit(batch.pk, importer_t), claim_and_commit(batch.pk, importer_t))
    refusals = [o for o in outcomes if isinstance(o, services.CommitRefused)]
    commits = [o for o in outcomes if isinstance(o, ImportBatch)]
    assert (len(commits), len(refusals)) == (1, 1)
    assert refusals[0].message in (
        "This batch is already being imported.",
        "This batch has already been imported.",
    )
    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (BatchStatus.IMPORTED, 300)
    assert Participant.objects.count() == 300
    assert PrapVersion.objects.count() == 300
    with pytest.raises(services.CommitRefused, match=r"^This batch has already been imported\.$"):
        services.batch_claim_commit(batch=batch, user=importer_t)


def _two_batches_of_the_same_people(user: User) -> tuple[ImportBatch, ImportBatch]:
    """400 people; then 150 of them again by NINO, one by email only, and 100 others."""
    first = validated(user, many_rows(400, start=1))
    shared = [row(n, PO_Number=f"B-{n}") for n in range(251, 401)]
    same_email = row(9001, Email_Address="alice1@example.com")
    others = [row(n) for n in range(500, 600)]
    second = validated(user, zip_bytes({"b.csv": csv_bytes([*shared, same_email, *others])}))
    assert (first.accepted_count, second.accepted_count) == (400, 251)
    return first, second


def _assert_each_person_once(first: ImportBatch, second: ImportBatch) -> None:
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (BatchStatus.IMPORTED, BatchStatus.IMPORTED)
    assert Participant.objects.count() == 500
    assert User.objects.filter(email="alice1@example.com").count() == 1
    assert first.created_count + second.created_count == 500
    # Whichever won, the loser's clashing rows are reported as conflicts.
    assert first.conflict_count + second.conflict_count == 151
    conflicts = StagedRow.objects.filter(outcome__result=RowResult.CONFLICT)
    assert conflicts.count() == 151
    codes = set(conflicts.values_list("issues__code", flat=True))
    assert codes <= {"match.exists", "email.taken", "match.nino_mismatch"}, codes


def test_two_batches_creating_the_same_people_at_once_never_duplicate_anyone(importer_t):
    first, second = _two_batches_of_the_same_people(importer_t)
    outcomes = race(claim_and_commit(first.pk, importer_t), claim_and_commit(second.pk, importer_t))
    assert any(isinstance(o, ImportBatch) for o in outcomes), outcomes
    assert Participant.objects.count() == 500 or Participant.objects.count() <= 400
    assert Participant.objects.values("nino").distinct().count() == Participant.objects.count()
    assert User.objects.filter(email="alice1@example.com").count() == 1
    # A commit that lost the race outright wrote nothing and says why.
    for batch in (first, second):
        batch.refresh_from_db()
        assert batch.status in (BatchStatus.IMPORTED, BatchStatus.FAILED)
        if batch.status == BatchStatus.FAILED:
            assert batch.failure_reason in (
                "Another import created the same people at the same time. Try again.",
                "The import stopped unexpectedly (OperationalError); nothing was written. Try again.",
            )
            assert not PrapVersion.objects.filter(batch=batch).exists()


def test_a_commit_meeting_a_person_created_meanwhile_reports_the_conflict(importer_t):
    """Deterministic form of the race: the person is created while the commit waits on them."""
    batch = validated(importer_t, bundle_of(row(1), row(2), row(3)))
    batch = services.batch_claim_commit(batch=batch, user=importer_t)
    created, release = threading.Event(), threading.Event()

    def other_import() -> None:
        try:
            with transaction.atomic():
                make_participant(nino="QQ000002C", email="alice2@example.com")
                created.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    outcome: list[object] = []

    def commit() -> None:
        try:
            outcome.append(services.batch_commit(batch=ImportBatch.objects.get(pk=batch.pk)))
        except Exception as error:  # noqa: BLE001 - the test looks at what the commit met
            outcome.append(error)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_import)
    other.start()
    assert created.wait(timeout=30)
    committer = threading.Thread(target=commit)
    committer.start()
    try:
        # The commit did not see the uncommitted person and now waits on their username.
        assert _waiting_backend() is not None
    finally:
        release.set()
        other.join(timeout=60)
        committer.join(timeout=60)
    assert isinstance(outcome[0], ImportBatch), outcome
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.conflict_count) == (BatchStatus.IMPORTED, 2, 1)
    conflict = StagedRow.objects.get(batch=batch, outcome__result=RowResult.CONFLICT)
    assert conflict.po_number == "PO-00002"
    assert Participant.objects.filter(nino="QQ000002C").count() == 1


def test_two_batches_creating_the_same_people_at_once_both_finish_reporting_conflicts(importer_t):
    first, second = _two_batches_of_the_same_people(importer_t)
    outcomes = race(claim_and_commit(first.pk, importer_t), claim_and_commit(second.pk, importer_t))
    assert all(isinstance(o, ImportBatch) for o in outcomes), outcomes
    _assert_each_person_once(first, second)


# --- The committing connection dies ------------------------------------------


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def test_a_connection_killed_mid_commit_writes_nothing_and_the_batch_can_be_committed_again(
    importer_t,
):
    batch = validated(importer_t, many_rows(300))
    batch = services.batch_claim_commit(batch=batch, user=importer_t)
    pids: list[int] = []
    outcome: list[object] = []

    def commit() -> None:
        pids.append(_backend_pid())
        try:
            outcome.append(services.batch_commit(batch=ImportBatch.objects.get(pk=batch.pk)))
        except Exception as error:  # noqa: BLE001 - the test looks at what the commit met
            outcome.append(error)
        finally:
            connections.close_all()

    worker = threading.Thread(target=commit)
    with _PeopleTableHeld():
        worker.start()
        statement = _kill_when_blocked(pids)
    worker.join(timeout=120)
    # Killed while writing the people, after the users of the same transaction.
    assert statement.startswith(f'INSERT INTO "{Participant._meta.db_table}"'), statement

    assert not isinstance(outcome[0], ImportBatch)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.failure_reason.startswith("The import stopped unexpectedly (")
    assert batch.failure_reason.endswith("); nothing was written. Try again.")
    assert Participant.objects.count() == 0
    assert PrapVersion.objects.count() == 0
    assert User.objects.exclude(pk=importer_t.pk).count() == 0

    again = services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=importer_t))
    assert (again.status, again.created_count, again.failure_reason) == (
        BatchStatus.IMPORTED,
        300,
        "",
    )
    assert Participant.objects.count() == 300


class _PeopleTableHeld:
    """Another session holding the people table, so a commit stops half way through its
    transaction, after its first writes, and can be killed there."""

    def __enter__(self) -> _PeopleTableHeld:
        self.connection = connections.create_connection("default")
        self.connection.set_autocommit(False)
        with self.connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Participant._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.connection.rollback()
        self.connection.close()


def _waiting_backend(timeout: float = 60) -> int | None:
    """The pid of the first other session of this database that waits on a lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' ORDER BY pid LIMIT 1"
            )
            found = cursor.fetchone()
            if found:
                return found[0]
            time.sleep(0.01)
    return None


def _kill_when_blocked(pids: list[int], timeout: float = 60) -> str:
    """Terminate the committing backend once it waits on a lock; the statement it was in."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            if pids:
                cursor.execute(
                    "SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = %s", [pids[0]]
                )
                found = cursor.fetchone()
                if found and found[0] == "Lock":
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pids[0]])
                    assert cursor.fetchone()[0]
                    return found[1]
            time.sleep(0.01)
    return ""


# --- The worker dies ---------------------------------------------------------


def test_a_batch_left_importing_may_be_claimed_again_only_after_the_stale_timeout(
    importer_t, settings
):
    settings.PRAP_STALE_LOCK_SECONDS = 600
    batch = validated(importer_t, bundle_of(row(1), row(2)))
    services.batch_claim_commit(batch=batch, user=importer_t)
    # The worker that claimed it died without a word: the batch says importing.
    with pytest.raises(services.CommitRefused, match=r"^This batch is already being imported\.$"):
        services.batch_claim_commit(batch=batch, user=importer_t)
    ImportBatch.objects.filter(pk=batch.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=590)
    )
    with pytest.raises(services.CommitRefused, match=r"^This batch is already being imported\.$"):
        services.batch_claim_commit(batch=batch, user=importer_t)
    ImportBatch.objects.filter(pk=batch.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=601)
    )
    batch = services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=importer_t))
    assert (batch.status, batch.created_count) == (BatchStatus.IMPORTED, 2)


_WORKER = """
import django, sys
django.setup()
from imports.models import ImportBatch
from imports.services import batch_commit
batch_commit(batch=ImportBatch.objects.get(pk=int(sys.argv[1])))
"""


def test_a_worker_process_killed_mid_commit_leaves_nothing_and_the_batch_is_retried(
    importer_t, settings
):
    settings.PRAP_STALE_LOCK_SECONDS = 600
    batch = validated(importer_t, many_rows(300))
    batch = services.batch_claim_commit(batch=batch, user=importer_t)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "prap_portal.settings",
        "DATABASE_URL": _test_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_BROKER_URL": "",
        "PYTHONPATH": str(Path(django_settings.BASE_DIR)),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(batch.pk)],
        env=env,
        cwd=django_settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with _PeopleTableHeld():
            # The worker's own writes are done and it waits for the people table: kill it there.
            assert _waiting_backend() is not None, worker.stderr.read().decode()
            assert worker.poll() is None
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL

    # PostgreSQL rolls the dead worker's transaction back once it sees the socket close.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _open_transactions_of_others():
        time.sleep(0.05)
    assert Participant.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IMPORTING
    with pytest.raises(services.CommitRefused, match=r"^This batch is already being imported\.$"):
        services.batch_claim_commit(batch=batch, user=importer_t)

    ImportBatch.objects.filter(pk=batch.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=601)
    )
    batch = services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=importer_t))
    assert (batch.status, batch.created_count) == (BatchStatus.IMPORTED, 300)
    assert Participant.objects.count() == 300


def _test_database_url() -> str:
    params = connection.settings_dict
    host = params["HOST"] or "127.0.0.1"
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{host}:{params['PORT'] or 5432}/{params['NAME']}"


def _open_transactions_of_others() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0
