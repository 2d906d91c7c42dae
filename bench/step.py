"""One measured benchmark step, run in its own process by ``bench.run``.

Prints one JSON line: seconds of the work itself and the process's peak memory.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import sys
import time
import zipfile

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prap_portal.settings")
django.setup()

from django.core.files import File  # noqa: E402
from django.db import connection  # noqa: E402

from imports import services  # noqa: E402
from imports.models import ImportBatch  # noqa: E402
from participants.models import User  # noqa: E402


def _importer() -> User:
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
    return user


def validate(bundle: str, options: str) -> dict[str, object]:
    keys = set(options.split(","))
    with open(bundle, "rb") as handle:
        batch = services.batch_create(
            uploaded_by=_importer(),
            upload=File(handle, name=os.path.basename(bundle)),
            update_by_nino="update" in keys,
            update_by_email=False,
            create_new="create" in keys,
        )
    started = time.perf_counter()
    batch = services.batch_validate(batch=batch)
    return {
        "seconds": time.perf_counter() - started,
        "batch": batch.pk,
        "accepted": batch.accepted_count,
    }


def commit(batch_id: str) -> dict[str, object]:
    batch = ImportBatch.objects.get(pk=int(batch_id))
    started = time.perf_counter()
    batch = services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=_importer()))
    return {"seconds": time.perf_counter() - started, "created": batch.created_count}


def _csv_texts(bundle: str) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return [
            archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".csv")
        ]


def copy(bundle: str) -> dict[str, object]:
    """Raw COPY of the bundle's rows into one table of text columns."""
    started = time.perf_counter()
    texts = _csv_texts(bundle)
    header = next(csv.reader(io.StringIO(texts[0])))
    columns = ", ".join(f"c{i} text" for i in range(len(header)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_copy")
        cursor.execute(f"CREATE TABLE bench_raw_copy ({columns})")
        for text in texts:
            cursor.copy_expert(
                "COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", io.StringIO(text)
            )
    return {"seconds": time.perf_counter() - started}


def die(bundle: str, mode: str, rows: str) -> dict[str, object]:
    """django-import-export's ModelResource importing the rows into bench.Referral."""
    import tablib
    from import_export import fields, resources, widgets

    from bench.generate import HEADER, referral_rows
    from bench.models import Referral
    from imports.pipeline.columns import FOLDED_TO_FIELD, fold_header

    class YesNo(widgets.BooleanWidget):
        TRUE_VALUES = ["Y", "y", "Yes", "1", "true", "True"]
        FALSE_VALUES = ["N", "n", "No", "0", "false", "False"]

    class Phone(widgets.CharWidget):
        def clean(self, value: object, row: object = None, **kwargs: object) -> str:
            return super().clean(value, row, **kwargs).replace(" ", "")

    def field_for(header: str) -> fields.Field:
        name = FOLDED_TO_FIELD[fold_header(header)]
        widget = None
        if name in ("referral_date", "date_of_birth"):
            widget = widgets.DateWidget(format="%d/%m/%Y")
        elif name in ("disability_status", "incident_marker"):
            widget = YesNo()
        elif name in ("telephone", "mobile"):
            widget = Phone()
        return fields.Field(attribute=name, column_name=header, widget=widget)

    class ReferralResource(resources.ModelResource):
        class Meta:
            model = Referral
            import_id_fields = ("po_number",)
            use_bulk = mode == "use_bulk"
            fields = tuple(FOLDED_TO_FIELD[fold_header(h)] for h in HEADER)

    for header in HEADER:
        ReferralResource.fields[FOLDED_TO_FIELD[fold_header(header)]] = field_for(header)

    # The same people without the faulty rows: django-import-export checks no
    # field rules, so faulty values would only fail in the database.
    dataset = tablib.Dataset(headers=list(HEADER))
    for row in referral_rows(int(rows), seed=1):
        dataset.append([row[h] for h in HEADER])
    Referral.objects.all().delete()
    resource_ = ReferralResource()
    started = time.perf_counter()
    if mode == "use_bulk":
        result = resource_.import_data(dataset, dry_run=False)
    else:
        resource_.import_data(dataset, dry_run=True)
        result = resource_.import_data(dataset, dry_run=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "errors": len(result.row_errors()),
        "imported": Referral.objects.count(),
    }


def odata() -> dict[str, object]:
    """One page of the OData feed with a $filter, over everyone imported so far."""
    from reporting.bench import bench_odata_page, bench_odata_setup

    feed = bench_odata_setup(participants=0)  # the people are the ones just imported
    feed.path = (
        "/odata/Participants?$filter=Programme eq 'Restart Scheme' and ReferralDate ge 2025-01-01"
        "&$select=Id,FirstName,LastName,NationalInsuranceNumber,Programme,ReferralDate,Town"
    )
    bench_odata_page(feed)  # the first request warms the process up
    pages = 5
    started = time.perf_counter()
    rows = sum(bench_odata_page(feed) for _ in range(pages))
    return {"seconds": (time.perf_counter() - started) / pages, "rows": rows // pages}


STEPS = {"validate": validate, "commit": commit, "copy": copy, "die": die, "odata": odata}

if __name__ == "__main__":
    outcome = STEPS[sys.argv[1]](*sys.argv[2:])
    outcome["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(outcome))
