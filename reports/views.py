"""The reports pages: the IT manager's dashboard (a panel per process, or the
same KPIs grouped as a balanced scorecard, each with its target and a trend
chart), the targets page and the CSV downloads.

A closed month without filters is read from its snapshot, so what was
reported stays what is shown; everything else is computed live. The trend is
the twelve months up to the chosen period: closed months from their
snapshots, only the open month live. `now` is read once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports import csv_export, kpis, periods
from reports.forms import (
    SCORECARD_VIEW,
    ReportForm,
    TargetsForm,
    direction_field,
    target_field,
)
from reports.models import KpiTarget, MonthlySnapshot
from reports.selectors import (
    Filters,
    Values,
    process_values,
    report_values,
    snapshots_for,
    targets_by_kpi,
)
from reports.services import CHANGE_TARGETS, target_set
from reports.templatetags.reports_charts import TrendPoint
from servicedesk.lib.access import permission_required

if TYPE_CHECKING:
    from reports.kpis import Lazy

VIEW = "reports.view_report"
TREND_MONTHS = 12
FILTER_LABELS: dict[str, Lazy] = {
    kpis.CUSTOMER_FILTER: gettext_lazy("customer"),
    kpis.ENGINEER_FILTER: gettext_lazy("engineer"),
    kpis.GROUP_FILTER: gettext_lazy("group"),
}


@dataclass
class KpiRow:
    kpi: kpis.Kpi
    value: float | None
    target: KpiTarget | None
    trend: list[TrendPoint] | None

    @property
    def met(self) -> bool | None:
        return self.target.is_met(self.value) if self.target else None

    @property
    def target_value(self) -> float | None:
        return float(self.target.target) if self.target else None

    @property
    def higher_is_better(self) -> bool | None:
        return self.target.higher_is_better if self.target else self.kpi.higher_is_better


@dataclass
class TableView:
    spec: kpis.TableSpec
    rows: list[dict[str, Any]]


@dataclass
class Panel:
    key: str
    label: Lazy
    rows: list[KpiRow]
    tables: list[TableView] = field(default_factory=list)
    unapplied: list[str] = field(default_factory=list)


# --- Figures --------------------------------------------------------------------------


def _figures(
    period: periods.Period, filters: Filters, now: Any, process: str | None = None
) -> tuple[Values, MonthlySnapshot | None]:
    """The period's values: from the snapshot when it is a closed month
    without filters and one was kept, else computed (for one process, or all)."""
    if not filters.active() and period.is_month() and period.is_closed(now):
        snapshot = MonthlySnapshot.objects.filter(month=period.first).first()
        if snapshot is not None:
            return snapshot.values, snapshot
    if process is not None:
        return process_values(process, period=period, filters=filters, now=now), None
    return report_values(period=period, filters=filters, now=now), None


def _trends(period: periods.Period, values: Values, now: Any) -> dict[str, list[TrendPoint]]:
    """Per KPI the twelve months up to the period's last month (never past the
    current one): snapshots for closed months (one query), the open month
    live, a gap for a closed month nobody kept."""
    current = periods.month_start(periods.local_date(now))
    last = min(periods.month_start(period.last), current)
    months = periods.months_ending(last, TREND_MONTHS)
    kept = snapshots_for(months)
    by_month: dict[date, tuple[Values | None, bool]] = {}
    for month in months:
        if month in kept:
            by_month[month] = (kept[month].values, False)
        elif period.is_month() and month == period.first:
            by_month[month] = (values, month == current)
        elif month == current:
            live = report_values(period=periods.month_period(month), now=now)
            by_month[month] = (live, True)
        else:
            by_month[month] = (None, False)
    return {
        kpi.code: [
            TrendPoint(month, (v["kpis"].get(kpi.code) if v else None), live)
            for month, (v, live) in by_month.items()
        ]
        for kpi in kpis.KPIS
    }


def _table_view(spec: kpis.TableSpec, rows: list[list[Any]]) -> TableView:
    choices = spec.choices() if spec.choices else {}
    out = []
    for key, *cells in rows:
        if spec.key_kind == kpis.CHOICE:
            label = choices.get(key, key)
        elif spec.key_kind == kpis.MONTH_KEY:
            year, month = (int(part) for part in key.split("-"))
            label = date_format(date(year, month, 1), "YEAR_MONTH_FORMAT")
        else:
            label = key or _("(none)")
        units = [column.unit for column in spec.columns]
        # A snapshot kept before a column was added has fewer cells: blanks.
        cells = (cells + [None] * len(units))[: len(units)]
        out.append({"key": label, "cells": list(zip(cells, units, strict=True))})
    return TableView(spec, out)


def _panels(
    values: Values,
    targets: dict[str, KpiTarget],
    trends: dict[str, list[TrendPoint]] | None,
    filters: Filters,
    scorecard: bool,
) -> list[Panel]:
    def row(kpi: kpis.Kpi) -> KpiRow:
        trend = trends.get(kpi.code) if trends else None
        return KpiRow(kpi, values["kpis"].get(kpi.code), targets.get(kpi.code), trend)

    if scorecard:
        return [
            Panel(key, label, [row(kpi) for kpi in kpis.kpis_in(key)])
            for key, label in kpis.PERSPECTIVES.items()
        ]
    active = filters.active()
    return [
        Panel(
            key,
            label,
            [row(kpi) for kpi in kpis.kpis_of(key)],
            [
                _table_view(spec, values["tables"].get(spec.code, {}).get("rows", []))
                for spec in kpis.tables_of(key)
            ],
            [str(FILTER_LABELS[name]) for name in sorted(active - kpis.FILTERS[key])],
        )
        for key, label in kpis.PROCESSES.items()
    ]


def period_label(period: periods.Period) -> str:
    if period.kind == periods.DAY:
        return date_format(period.first, "DATE_FORMAT")
    if period.kind == periods.WEEK:
        year, week, _weekday = period.first.isocalendar()
        return _("Week %(week)d of %(year)d") % {"week": week, "year": year}
    if period.kind == periods.MONTH:
        return date_format(period.first, "YEAR_MONTH_FORMAT")
    if period.kind == periods.QUARTER:
        quarter = (period.first.month - 1) // 3 + 1
        return _("Quarter %(quarter)d of %(year)d") % {
            "quarter": quarter,
            "year": period.first.year,
        }
    return _("%(first)s to %(last)s") % {
        "first": date_format(period.first, "DATE_FORMAT"),
        "last": date_format(period.last, "DATE_FORMAT"),
    }


def _query_for(request: HttpRequest, period: periods.Period) -> str:
    """The current query string with the period replaced."""
    query: QueryDict = request.GET.copy()
    query["kind"] = period.kind
    for name in ("day", "start", "end"):
        query.pop(name, None)
    if period.kind == periods.CUSTOM:
        query["start"], query["end"] = period.first.isoformat(), period.last.isoformat()
    else:
        query["day"] = period.first.isoformat()
    return query.urlencode()


# --- Pages ----------------------------------------------------------------------------


@permission_required(VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = periods.local_date(now)
    form = ReportForm(request.GET or None, initial={"kind": periods.MONTH, "day": today})
    period = form.period(today)
    filters = form.filters()
    scorecard = form.view_mode() == SCORECARD_VIEW
    values, snapshot = _figures(period, filters, now)
    # Snapshots are of the whole company: a filtered report has no trend.
    trends = None if filters.active() else _trends(period, values, now)
    following = period.next()
    context = {
        "form": form,
        "period": period,
        "period_label": period_label(period),
        "query": _query_for(request, period),
        "previous_query": _query_for(request, period.previous()),
        "next_query": _query_for(request, following) if following.first <= today else "",
        "snapshot": snapshot,
        "now": now,
        "trend_months": TREND_MONTHS,
        "scorecard": scorecard,
        "filtered": bool(filters.active()),
        "panels": _panels(values, targets_by_kpi(), trends, filters, scorecard),
        "process_labels": kpis.PROCESSES,
    }
    template = (
        "reports/_report.html" if request.headers.get("HX-Request") else "reports/dashboard.html"
    )
    return render(request, template, context)


def _unchanged(current: KpiTarget | None, target: Decimal | None, higher: bool | None) -> bool:
    if current is None:
        return target is None
    return target == current.target and higher in (None, current.higher_is_better)


@permission_required(VIEW)
def targets(request: HttpRequest) -> HttpResponse:
    """Every KPI's target and direction, editable by who may change targets."""
    current = targets_by_kpi()
    may_change = request.user.has_perm(CHANGE_TARGETS)
    form = TargetsForm(request.POST or None, targets=current)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        if form.is_valid() and _targets_save(request, form, current):
            messages.success(request, _("The targets are saved."))
            return redirect("report-targets")
    if not may_change:
        for bound in form.fields.values():
            bound.disabled = True
    groups = [
        (
            label,
            [
                (kpi, form[target_field(kpi.code)], form[direction_field(kpi.code)])
                for kpi in kpis.kpis_of(process)
            ],
        )
        for process, label in kpis.PROCESSES.items()
    ]
    return render(
        request,
        "reports/targets.html",
        {"form": form, "groups": groups, "may_change": may_change},
    )


def _targets_save(request: HttpRequest, form: TargetsForm, current: dict[str, KpiTarget]) -> bool:
    """All changed targets in one transaction; on any refusal nothing is saved
    and the refusals are shown on their fields."""
    now = timezone.now()
    errors: dict[str, ValidationError] = {}
    with transaction.atomic():
        for code, (target, higher) in form.wanted().items():
            if _unchanged(current.get(code), target, higher):
                continue
            try:
                target_set(
                    kpi=code, target=target, higher_is_better=higher, actor=request.user, now=now
                )
            except ValidationError as refusal:
                errors[code] = refusal
        if errors:
            transaction.set_rollback(True)
    for code, error in errors.items():
        fields = {"target": target_field(code), "higher_is_better": direction_field(code)}
        for name, problems in error.message_dict.items():
            form.add_error(fields.get(name), problems)
    return not errors


# --- CSV ------------------------------------------------------------------------------


def _csv_request(request: HttpRequest) -> tuple[periods.Period, Filters, Any] | None:
    now = timezone.now()
    form = ReportForm(request.GET or None)
    if request.GET and not form.is_valid():
        return None
    return form.period(periods.local_date(now)), form.filters(), now


@permission_required(VIEW)  # type: ignore[arg-type]  # typed for HttpResponse; streams pass
def kpis_csv(request: HttpRequest) -> HttpResponseBase:
    parsed = _csv_request(request)
    if parsed is None:
        return HttpResponseBadRequest(_("The period or a filter is not valid."))
    period, filters, now = parsed
    values, _snapshot = _figures(period, filters, now)
    return csv_export.stream(
        f"kpis-{csv_export.period_slug(period)}.csv",
        csv_export.KPI_HEADER,
        csv_export.kpi_rows(values, targets_by_kpi()),
    )


@permission_required(VIEW)  # type: ignore[arg-type]  # typed for HttpResponse; streams pass
def table_csv(request: HttpRequest, code: str) -> HttpResponseBase:
    spec = kpis.TABLES_BY_CODE.get(code)
    if spec is None:
        raise Http404
    parsed = _csv_request(request)
    if parsed is None:
        return HttpResponseBadRequest(_("The period or a filter is not valid."))
    period, filters, now = parsed
    values, _snapshot = _figures(period, filters, now, process=spec.process)
    table = _table_view(spec, values["tables"].get(code, {}).get("rows", []))
    rows = ([row["key"], *(value for value, _unit in row["cells"])] for row in table.rows)
    return csv_export.stream(
        f"{code}-{csv_export.period_slug(period)}.csv", csv_export.table_header(spec), rows
    )


def _rows_csv(request: HttpRequest, name: str, rows: Any) -> HttpResponseBase:
    parsed = _csv_request(request)
    if parsed is None:
        return HttpResponseBadRequest(_("The period or a filter is not valid."))
    period, filters, _now = parsed
    header, lines = rows(period, filters)
    return csv_export.stream(f"{name}-{csv_export.period_slug(period)}.csv", header, lines)


@permission_required(VIEW)  # type: ignore[arg-type]  # typed for HttpResponse; streams pass
def tickets_csv(request: HttpRequest) -> HttpResponseBase:
    return _rows_csv(request, "tickets", csv_export.ticket_rows)


@permission_required(VIEW)  # type: ignore[arg-type]  # typed for HttpResponse; streams pass
def changes_csv(request: HttpRequest) -> HttpResponseBase:
    return _rows_csv(request, "changes", csv_export.change_rows)


@permission_required(VIEW)  # type: ignore[arg-type]  # typed for HttpResponse; streams pass
def backup_problems_csv(request: HttpRequest) -> HttpResponseBase:
    return _rows_csv(request, "backup-problems", csv_export.backup_problem_rows)
