"""The report builder, saved reports and feed tokens (pages for signed-in staff)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from participants import roles
from reporting import selectors, services
from reporting.chart import referrals_chart_svg
from reporting.export import csv_lines, xlsx_file
from reporting.fields import REPORT_FIELDS, REPORT_GROUPS
from reporting.forms import (
    FeedTokenForm,
    ReportForm,
    SaveReportForm,
    definition_from_saved,
    definition_query,
)

PERM_BUILD = "reporting.build_reports"
PERM_FEED = "reporting.use_odata_feed"


def _builder_form(request: HttpRequest) -> ReportForm:
    if not request.GET:
        return ReportForm(initial={"sort": "last_name", "direction": "asc"})
    data = request.GET.copy()
    # A link without a sort shows the default sort as chosen, not the first column.
    data.setdefault("sort", "last_name")
    data.setdefault("direction", "asc")
    return ReportForm(data)


@require_GET
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def builder(request: HttpRequest) -> HttpResponse:
    form = _builder_form(request)
    context: dict[str, object] = {
        "form": form,
        "groups": [(g, [f for f in REPORT_FIELDS if f.group == g]) for g in REPORT_GROUPS],
        "save_form": SaveReportForm(),
    }
    if form.is_bound and form.is_valid():
        definition = form.definition()
        queryset = selectors.report_queryset(definition=definition)
        columns = definition.columns
        rows, total = selectors.report_preview(
            queryset=queryset, columns=columns, reveal_nino=roles.can_reveal_nino(request.user)
        )
        services.access_log_record(
            user=request.user, action="report_preview", detail=request.get_full_path()
        )
        chart = referrals_chart_svg(selectors.referrals_by_month(queryset=queryset))
        context.update(
            definition=definition,
            columns=columns,
            rows=rows,
            total=total,
            chart=mark_safe(chart),  # built from numbers and escaped text only
            query=definition_query(definition),
            selected=set(definition.fields),
        )
    else:
        context["selected"] = set(form.data.getlist("fields")) if form.is_bound else set()
    return render(request, "reporting/builder.html", context)


def _file_name(extension: str) -> str:
    return f"prap-report-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


def _export_rows(request: HttpRequest) -> tuple[list[str], Iterable[list[object]]] | None:
    """The report's column labels and streamed rows, logged as an export; None if invalid."""
    form = ReportForm(request.GET)
    if not form.is_valid():
        return None
    definition = form.definition()
    columns = definition.columns
    rows = selectors.report_rows(
        queryset=selectors.report_queryset(definition=definition),
        columns=columns,
        reveal_nino=roles.can_reveal_nino(request.user),
    )
    services.access_log_record(
        user=request.user, action="report_export", detail=request.get_full_path()
    )
    return [c.label for c in columns], rows


def _invalid_filters() -> HttpResponse:
    return HttpResponse(
        "The report's filters are not valid.", status=400, content_type="text/plain"
    )


@require_GET
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def export_csv(request: HttpRequest) -> HttpResponse:
    export = _export_rows(request)
    if export is None:
        return _invalid_filters()
    response = StreamingHttpResponse(csv_lines(*export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name("csv")}"'
    return response


@require_GET
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def export_xlsx(request: HttpRequest) -> HttpResponse:
    export = _export_rows(request)
    if export is None:
        return _invalid_filters()
    return FileResponse(
        xlsx_file(*export),
        as_attachment=True,
        filename=_file_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_POST
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def save(request: HttpRequest) -> HttpResponse:
    # The report's definition travels in the query string, its name in the body.
    report_form = ReportForm(request.GET)
    save_form = SaveReportForm(request.POST)
    if not (report_form.is_valid() and save_form.is_valid()):
        messages.error(request, "The report was not saved: give it a name and valid filters.")
        return redirect("reporting-builder")
    report = services.report_save(
        owner=request.user,
        name=save_form.cleaned_data["name"],
        definition=report_form.definition().as_dict(),
        shared=save_form.cleaned_data["shared"],
    )
    messages.success(request, f"Report “{report.name}” saved.")
    return redirect("reporting-run", pk=report.pk)


@require_GET
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def saved_list(request: HttpRequest) -> HttpResponse:
    reports = selectors.reports_visible_to(user=request.user)
    return render(request, "reporting/saved_list.html", {"reports": reports})


@require_GET
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def run(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(user=request.user, pk=pk)
    query = definition_query(definition_from_saved(report.definition))
    return HttpResponseRedirect(f"{reverse('reporting-builder')}?{query}")


@require_POST
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def share(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(user=request.user, pk=pk, own=True)
    shared = request.POST.get("shared") == "1"
    services.report_set_shared(report=report, shared=shared)
    verb = "is now shared with" if shared else "is no longer shared with"
    messages.success(request, f"Report “{report.name}” {verb} other staff.")
    return redirect("reporting-saved")


@require_POST
@login_required
@permission_required(PERM_BUILD, raise_exception=True)
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(user=request.user, pk=pk, own=True)
    services.report_delete(report=report)
    messages.success(request, f"Report “{report.name}” deleted.")
    return redirect("reporting-saved")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(PERM_FEED, raise_exception=True)
def tokens(request: HttpRequest) -> HttpResponse:
    form = FeedTokenForm(request.POST or None)
    context: dict[str, object] = {
        "form": form,
        "feed_url": request.build_absolute_uri(reverse("reporting-odata-root")),
    }
    status = 200
    if request.method == "POST":
        if form.is_valid():
            token, secret = services.feed_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
            # Shown once, in this response only: nothing else can show it again.
            context.update(new_token=token, secret=secret, form=FeedTokenForm())
            status = 201
        else:
            status = 400
    context["tokens"] = selectors.feed_tokens_for(user=request.user)
    return render(request, "reporting/tokens.html", context, status=status)


@require_POST
@login_required
@permission_required(PERM_FEED, raise_exception=True)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.feed_token_get(user=request.user, pk=pk)
    services.feed_token_revoke(token=token)
    messages.success(request, f"Feed token “{token.name}” revoked. It no longer works.")
    return redirect("reporting-tokens")
