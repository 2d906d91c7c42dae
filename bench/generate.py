"""Realistic PRaP referral bundles, deterministic by seed.

Used by the benchmarks, the demo sample and the tests. A share of rows can be
made bad on purpose (each with one known fault) to exercise the error paths.

    python -m bench.generate --rows 100000 --bad 0.02 --seed 1 out.zip
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

HEADER = (
    "PO Number", "Referral ID", "Referral Date", "Programme", "Contract", "Title", "First Name",
    "Last Name", "National Insurance Number", "Date of Birth", "Gender", "Address Line 1", "Town",
    "Postcode", "Telephone Number", "Mobile Number", "Email Address", "Benefit Type", "Jobcentre",
    "Work Coach", "Voluntary or Mandatory", "Disability Status", "Notes",
)  # fmt: skip

FIRST_NAMES = ("Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo",
               "Sophia", "Oscar", "Grace", "Harry", "Freya", "Jack", "Lily", "Charlie", "Rhys", "Seren")  # fmt: skip
LAST_NAMES = ("Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Thomas", "Roberts",
              "Johnson", "Walker", "Wright", "Patel", "Khan", "Hughes", "Edwards", "O'Brien")  # fmt: skip
TOWNS = (("Cardiff", "CF10 1AA"), ("Leeds", "LS1 4AP"), ("Manchester", "M1 1AE"),
         ("Bristol", "BS1 4DJ"), ("Swansea", "SA1 1NW"), ("Newcastle", "NE1 7RU"))  # fmt: skip
PROGRAMMES = ("Restart Scheme", "Work and Health Programme", "Connect to Work")
CONTRACTS = ("Wales", "North East", "North West", "Central England")
BENEFITS = ("Universal Credit", "JSA", "ESA")
FIRST_LETTERS = "ABCEGHJKLMNPRSTWXYZ"
SECOND_LETTERS = "ABCEGHJKLMNPRSTWXYZ"
UNALLOCATED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
PREFIXES = [a + b for a in FIRST_LETTERS for b in SECOND_LETTERS if a + b not in UNALLOCATED]

# Each bad row carries exactly one of these faults.
FAULTS = ("nino.format", "date.format", "postcode.format", "email.format", "field.required")


def nino_for(index: int) -> str:
    """A valid, unique NINO for each index below 350 million."""
    prefix = PREFIXES[index // 1_000_000 % len(PREFIXES)]
    return f"{prefix}{index % 1_000_000:06d}{'ABCD'[index % 4]}"


def referral_rows(count: int, *, seed: int = 1, bad_share: float = 0.0, start: int = 0,
                  changed: bool = False) -> Iterator[dict[str, str]]:  # fmt: skip
    """``count`` referral rows; ``changed`` alters each person's data as DWP would resend it."""
    rng = random.Random(seed)
    today = datetime.date(2026, 11, 1)
    for i in range(start, start + count):
        town, postcode = TOWNS[i % len(TOWNS)]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        birth = today - datetime.timedelta(days=rng.randint(18 * 365, 64 * 365))
        referral = today - datetime.timedelta(days=rng.randint(0, 700))
        row = {
            "PO Number": f"PO-{i:08d}",
            "Referral ID": f"R{i:09d}",
            "Referral Date": referral.strftime("%d/%m/%Y"),
            "Programme": PROGRAMMES[i % len(PROGRAMMES)],
            "Contract": CONTRACTS[i % len(CONTRACTS)],
            "Title": rng.choice(("Mr", "Ms", "Mrs", "Mx", "")),
            "First Name": first,
            "Last Name": last,
            "National Insurance Number": nino_for(i),
            "Date of Birth": birth.strftime("%d/%m/%Y"),
            "Gender": rng.choice(("Female", "Male", "")),
            "Address Line 1": f"{rng.randint(1, 200)} {rng.choice(('High', 'Station', 'Church'))} Street",
            "Town": town,
            "Postcode": postcode,
            "Telephone Number": f"029 2{rng.randint(0, 9999999):07d}",
            "Mobile Number": f"07700 9{rng.randint(0, 99999):05d}",
            "Email Address": f"{first}.{last}.{i}@example.com".lower() if i % 5 else "",
            "Benefit Type": rng.choice(BENEFITS),
            "Jobcentre": f"{town} Jobcentre",
            "Work Coach": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "Voluntary or Mandatory": rng.choice(("V", "M")),
            "Disability Status": rng.choice(("Y", "N", "")),
            "Notes": "",
        }
        if changed:
            row["Address Line 1"] = f"{i % 400 + 1} New Road"
            row["Notes"] = "Moved house"
        if bad_share and rng.random() < bad_share:
            _break(row, FAULTS[i % len(FAULTS)])
        yield row


def _break(row: dict[str, str], fault: str) -> None:
    if fault == "nino.format":
        row["National Insurance Number"] = "QQ12"
    elif fault == "date.format":
        row["Referral Date"] = "31/02/2024"
    elif fault == "postcode.format":
        row["Postcode"] = "NOT A CODE"
    elif fault == "email.format":
        row["Email Address"] = "someone.at.example.com"
    else:
        row["Last Name"] = ""


def write_bundle(path: Path | io.BytesIO, rows: Iterator[dict[str, str]], *,
                 rows_per_file: int = 250_000, header: tuple[str, ...] = HEADER) -> None:  # fmt: skip
    """Write rows as CSV files of at most ``rows_per_file`` rows into one zip."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        part, buffer, writer, written = 0, None, None, 0
        for row in rows:
            if writer is None or written == rows_per_file:
                if buffer is not None:
                    bundle.writestr(f"referrals/part-{part:03d}.csv", buffer.getvalue())
                part += 1
                buffer = io.StringIO()
                writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
                writer.writeheader()
                written = 0
            writer.writerow(row)
            written += 1
        if buffer is not None:
            bundle.writestr(f"referrals/part-{part:03d}.csv", buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--bad", type=float, default=0.0, help="share of rows with one fault")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changed", action="store_true", help="changed data for the same people")
    args = parser.parse_args()
    write_bundle(
        args.output,
        referral_rows(args.rows, seed=args.seed, bad_share=args.bad, changed=args.changed),
    )


if __name__ == "__main__":
    main()


def write_samples(folder: Path) -> None:
    """The demo's bundles: people loaded by ``make run``, and a bundle to import by hand.

    The sample bundle changes the data of ten demo people (pending versions), adds
    forty new people, carries a few faulty rows and a macOS junk entry.
    """
    folder.mkdir(parents=True, exist_ok=True)
    write_bundle(folder / "demo-people.zip", referral_rows(30, seed=7))
    moved = list(referral_rows(30, seed=7, changed=True))[20:]
    rows = [*moved, *referral_rows(40, seed=8, start=30, bad_share=0.1)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    with zipfile.ZipFile(
        folder / "prap-sample.zip", "w", compression=zipfile.ZIP_DEFLATED
    ) as bundle:
        bundle.writestr("PRaP referrals/referrals-2026-11.csv", buffer.getvalue())
        bundle.writestr("__MACOSX/PRaP referrals/._referrals-2026-11.csv", b"\x00\x05\x16\x07")
