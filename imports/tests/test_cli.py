"""The import_prap command: the same report and import from the command line."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from participants.models import Participant

from .bundles import bundle_of, row, write


def test_it_validates_only_and_writes_the_json_report(importer, tmp_path, capsys):
    bundle = write(tmp_path, bundle_of(row(1), row(2, National_Insurance_Number="ZZ123456C")))
    report_path = tmp_path / "report.json"
    call_command(
        "import_prap",
        str(bundle),
        "--create",
        "--user",
        importer.username,
        "--report-json",
        str(report_path),
    )
    report = json.loads(report_path.read_text())
    assert (report["accepted"], report["rejected"]) == (1, 1)
    assert report["files"] == [{"path": "referrals.csv", "rows": 2, "warnings": [], "errors": []}]
    rejected = report["rows"][1]
    assert (rejected["status"], rejected["action"], rejected["line"]) == ("rejected", None, 3)
    assert rejected["errors"][0]["code"] == "nino.prefix"
    assert report["rows"][0]["action"] == "create"
    assert not Participant.objects.exists()
    assert "1 accepted, 1 rejected" in capsys.readouterr().out


def test_with_commit_it_imports_and_prints_counts(importer, tmp_path, capsys):
    bundle = write(tmp_path, bundle_of(row(1), row(2)))
    errors_path = tmp_path / "errors.csv"
    call_command(
        "import_prap", str(bundle), "--create", "--commit", "--user", importer.username,
        "--errors-csv", str(errors_path),
    )  # fmt: skip
    assert Participant.objects.count() == 2
    assert "Imported: 2 created, 0 updated (0 pending), 0 unchanged" in capsys.readouterr().out
    assert errors_path.read_text(encoding="utf-8-sig").splitlines() == [
        "PO Number,File,Line,Column,Code,Error"
    ]


def test_it_exits_2_when_the_archive_is_refused(importer, tmp_path):
    bundle = write(tmp_path, b"plain text, not a zip")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_prap", str(bundle), "--update-by", "nino", "--user", importer.username)
    assert exit_info.value.code == 2


def test_it_needs_to_be_told_what_the_import_may_do(importer, tmp_path):
    bundle = write(tmp_path, bundle_of(row(1)))
    with pytest.raises(CommandError, match="Say what the import may do"):
        call_command("import_prap", str(bundle), "--user", importer.username)
