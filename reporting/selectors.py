"""Reads of the reporting app: report rows, counts and charts, tokens and saved reports."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from participants.models import Kind, PrapVersion, User, VersionStatus
from participants.nino import nino_mask
from reporting.fields import REPORT_FIELDS_BY_KEY, ReportField
from reporting.models import FeedToken, SavedReport

_KIND_LABELS = dict(Kind.choices)


@dataclass(frozen=True)
class ReportDefinition:
    """What a report shows: its columns, filters and sort (as saved, JSON-ready)."""

    fields: tuple[str, ...]
    programme: str = ""
    contract: str = ""
    referral_from: str = ""  # ISO date or ""
    referral_to: str = ""
    status: str = ""  # a user kind or ""
    pending: str = ""  # "yes", "no" or ""
    batch: int | None = None
    sort: str = "last_name"
    direction: str = "asc"

    @property
    def columns(self) -> tuple[ReportField, ...]:
        return tuple(REPORT_FIELDS_BY_KEY[k] for k in self.fields if k in REPORT_FIELDS_BY_KEY)

    def as_dict(self) -> dict[str, object]:
        return {
            "fields": list(self.fields),
            "programme": self.programme,
            "contract": self.contract,
            "referral_from": self.referral_from,
            "referral_to": self.referral_to,
            "status": self.status,
            "pending": self.pending,
            "batch": self.batch,
            "sort": self.sort,
            "direction": self.direction,
        }


def report_queryset(*, definition: ReportDefinition) -> QuerySet:
    """The applied PRaP versions a report covers, filtered and sorted, one row a person."""
    pending = PrapVersion.objects.filter(
        participant_id=OuterRef("participant_id"), status=VersionStatus.PENDING
    )
    queryset = PrapVersion.objects.filter(status=VersionStatus.APPLIED).annotate(
        has_pending_version=Exists(pending)
    )
    d = definition
    if d.programme:
        queryset = queryset.filter(programme=d.programme)
    if d.contract:
        queryset = queryset.filter(contract=d.contract)
    if d.referral_from:
        queryset = queryset.filter(referral_date__gte=datetime.date.fromisoformat(d.referral_from))
    if d.referral_to:
        queryset = queryset.filter(referral_date__lte=datetime.date.fromisoformat(d.referral_to))
    if d.status:
        queryset = queryset.filter(participant__user__kind=d.status)
    if d.pending == "yes":
        queryset = queryset.filter(has_pending_version=True)
    elif d.pending == "no":
        queryset = queryset.filter(has_pending_version=False)
    if d.batch is not None:
        queryset = queryset.filter(
            Exists(
                PrapVersion.objects.filter(participant_id=OuterRef("participant_id"), batch=d.batch)
            )
        )
    sort = REPORT_FIELDS_BY_KEY.get(d.sort, REPORT_FIELDS_BY_KEY["last_name"])
    expr = F(sort.path)
    first = expr.desc(nulls_last=True) if d.direction == "desc" else expr.asc(nulls_last=True)
    return queryset.order_by(first, "participant_id")


def _cell(value: object, field: ReportField, reveal_nino: bool) -> object:
    if field.nino and not reveal_nino and isinstance(value, str):
        return nino_mask(value)
    if field.key == "status" and isinstance(value, str):
        return _KIND_LABELS.get(value, value)
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value)
    return value


def report_rows(
    *, queryset: QuerySet, columns: tuple[ReportField, ...], reveal_nino: bool
) -> Iterator[list[object]]:
    """Every row of a report, fetched in chunks so a large report never sits in memory."""
    paths = [c.path for c in columns]
    for values in queryset.values_list(*paths).iterator(
        chunk_size=settings.REPORT_EXPORT_CHUNK_SIZE
    ):
        yield [_cell(v, c, reveal_nino) for v, c in zip(values, columns, strict=True)]


def report_preview(
    *, queryset: QuerySet, columns: tuple[ReportField, ...], reveal_nino: bool
) -> tuple[list[list[object]], int]:
    """The first rows of a report and how many rows it has in all."""
    paths = [c.path for c in columns]
    rows = [
        [_cell(v, c, reveal_nino) for v, c in zip(values, columns, strict=True)]
        for values in queryset.values_list(*paths)[: settings.REPORT_PREVIEW_ROWS]
    ]
    return rows, queryset.count()


def referrals_by_month(*, queryset: QuerySet) -> list[tuple[datetime.date, int]]:
    """How many people of the report were referred in each month (one query)."""
    rows = (
        queryset.order_by()
        .filter(referral_date__isnull=False)
        .annotate(month=TruncMonth("referral_date"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    return [(row["month"], row["n"]) for row in rows]


def distinct_values(*, field: str, limit: int = 500) -> list[str]:
    """The values of a PRaP field among applied versions, for a filter's choices."""
    return list(
        PrapVersion.objects.filter(status=VersionStatus.APPLIED)
        .exclude(**{field: ""})
        .order_by(field)
        .values_list(field, flat=True)
        .distinct()[:limit]
    )


def feed_tokens_for(*, user: User) -> QuerySet:
    return FeedToken.objects.filter(user=user)


def feed_token_get(*, user: User, pk: int) -> FeedToken:
    """A token of ``user``; anyone else's token is a 404."""
    token = FeedToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404("No such feed token.")
    return token


def reports_visible_to(*, user: User) -> QuerySet:
    """Reports ``user`` saved, and reports others shared."""
    return SavedReport.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def report_get(*, user: User, pk: int, own: bool = False) -> SavedReport:
    """A report ``user`` may run (or, with ``own``, change); any other is a 404."""
    reports = SavedReport.objects.filter(owner=user) if own else reports_visible_to(user=user)
    report = reports.filter(pk=pk).first()
    if report is None:
        raise Http404("No such report.")
    return report
