"""Benchmarks of the import on PostgreSQL: ``make bench`` prints a table.

Each measured step runs in its own process so its peak memory (max RSS) is its
own. Every size starts from an empty database. For each size:

- validate and commit a bundle of new people (2% faulty rows),
- read one page of the OData feed with a ``$filter`` over everyone imported,
- validate and commit the same bundle again (every row unchanged),
- validate and commit a bundle of the same people with changed data (pending versions),

then, on the same rows, django-import-export's ``ModelResource`` into an
equivalent flat model (its default dry run then import, and ``use_bulk=True``),
and a raw PostgreSQL ``COPY`` of the rows into one table. Our cycle's time is
printed as a ratio of each.

    python -m bench.run [--sizes 10000,100000] [--die-rows 10000] [--out bench/out]

``DATABASE_URL`` names the server; the database ``prap_bench`` on it is
dropped and made anew.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("The benchmarks run on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    return urlunsplit(parts._replace(path="/prap_bench"))


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PRAP_BENCH": "1",
        "CELERY_BROKER_URL": "",
        # The feed step reads the feed through the test client, whose host is testserver.
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }


def _step(*args: str) -> dict[str, float]:
    """Run one step in a child process; it reports its own seconds and peak memory (MB).

    A checkpoint first writes out what earlier steps left in memory, so no step
    pays for the disk writes of the one before it.
    """
    subprocess.run([sys.executable, "-c", _CHECKPOINT_SQL, _database_url()], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.step", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"The step {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fresh_database() -> None:
    url = urlsplit(_database_url())
    admin = urlunsplit(url._replace(path="/postgres"))
    subprocess.run(
        [sys.executable, "-c", _RESET_SQL, admin],
        check=True,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--run-syncdb", "-v0"],
        cwd=ROOT,
        env=_env(),
        check=True,
    )


_CHECKPOINT_SQL = """
import sys, psycopg2
connection = psycopg2.connect(sys.argv[1]); connection.autocommit = True
connection.cursor().execute("CHECKPOINT")
"""

_RESET_SQL = """
import sys, psycopg2
connection = psycopg2.connect(sys.argv[1]); connection.autocommit = True
cursor = connection.cursor()
cursor.execute("DROP DATABASE IF EXISTS prap_bench WITH (FORCE)")
cursor.execute("CREATE DATABASE prap_bench")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--die-rows", type=int, default=10_000)
    parser.add_argument("--bad", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]

    table: list[tuple[str, ...]] = []
    for size in sizes:
        new = args.out / f"bundle-{size}.zip"
        changed = args.out / f"bundle-{size}-changed.zip"
        for path, flag in ((new, []), (changed, ["--changed"])):
            if not path.exists():
                subprocess.run(
                    [sys.executable, "-m", "bench.generate", str(path), "--rows", str(size),
                     "--bad", str(args.bad), "--seed", "1", *flag],
                    cwd=ROOT, check=True,
                )  # fmt: skip
        _fresh_database()
        results = {}
        for label, bundle, options in (
            ("new people", new, "create"),
            ("same bundle again", new, "update,create"),
            ("changed data", changed, "update,create"),
        ):
            validate = _step("validate", str(bundle), options)
            commit = _step("commit", str(validate["batch"]))
            results[label] = (validate, commit)
            for phase, measured in (("validate", validate), ("commit", commit)):
                table.append(_row(size, f"{label}: {phase}", size, measured))
        ours = results["new people"][0]["seconds"] + results["new people"][1]["seconds"]
        feed = _step("odata")
        table.append(
            _row(size, f"OData feed: one page of {feed['rows']:,} with $filter", feed["rows"], feed)
        )
        copy = _step("copy", str(new))
        table.append(_row(size, "raw COPY into one table", size, copy))
        table.append(
            ("", f"our new-people cycle / COPY = {ours / copy['seconds']:.1f}x", "", "", "")
        )

        die_rows = min(size, args.die_rows)
        for mode in ("dry-run-then-import", "use_bulk"):
            die = _step("die", str(new), mode, str(die_rows))
            scaled = die["seconds"] * size / die_rows
            note = "" if die_rows == size else f" on {die_rows:,} rows; grows linearly"
            table.append(_row(die_rows, f"django-import-export {mode}{note}", die_rows, die))
            table.append(
                ("", f"django-import-export {mode} / our cycle = {scaled / ours:.1f}x", "", "", "")
            )

    header = ("rows", "step", "seconds", "rows/s", "peak MB")
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(5)]
    lines = [
        " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
        for r in [header, *table]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    report = "\n".join(lines)
    print(report)
    (args.out / "results.txt").write_text(report + "\n", encoding="utf-8")


def _row(size: int, step: str, rows: int, measured: dict[str, float]) -> tuple[str, ...]:
    seconds = measured["seconds"]
    return (
        f"{size:,}",
        step,
        f"{seconds:.2f}",
        f"{rows / seconds:,.0f}" if seconds else "-",
        f"{measured['peak_mb']:.0f}",
    )


if __name__ == "__main__":
    main()
