"""Build real PRaP bundles in memory for tests: rows, CSV bytes, zips."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = (
    "PO Number", "Referral Date", "Programme", "First Name", "Last Name",
    "National Insurance Number", "Date of Birth", "Postcode", "Email Address",
)  # fmt: skip


def row(n: int = 1, **overrides: str) -> dict[str, str]:
    """A valid referral row, unique by ``n``; keyword names use _ for spaces."""
    values = {
        "PO Number": f"PO-{n:05d}",
        "Referral Date": "01/03/2024",
        "Programme": "Restart Scheme",
        "First Name": "Alice",
        "Last Name": f"Adams{n}",
        "National Insurance Number": f"QQ{n:06d}C",
        "Date of Birth": "15/06/1990",
        "Postcode": "CF10 1AA",
        "Email Address": f"alice{n}@example.com",
    }
    for key, value in overrides.items():
        values[key.replace("_", " ")] = value
    return values


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    header: tuple[str, ...] | list[str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    line_ending: str = "\r\n",
) -> bytes:
    header = list(header or (rows[0].keys() if rows else HEADER))
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=header,
        delimiter=delimiter,
        lineterminator=line_ending,
        extrasaction="ignore",
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def bundle_of(*rows: dict[str, str], name: str = "referrals.csv") -> bytes:
    """A zip holding one CSV of these rows."""
    return zip_bytes({name: csv_bytes(list(rows))})


def upload(content: bytes, name: str = "bundle.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/zip")


def write(tmp_path: Path, content: bytes, name: str = "bundle.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path
