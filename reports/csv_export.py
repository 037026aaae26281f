"""CSV exports of the KPIs, the breakdown tables and the rows behind them.

Streamed: the response is a generator over `.iterator(chunk_size=...)`, so a
year of tickets goes out a chunk at a time instead of being loaded at once.
Cells that a spreadsheet would run as a formula (=, +, -, @ first) are
prefixed with a quote: subjects and names come from customers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from backups.models import BackupProblem
from changes.models import Change
from reports import kpis
from reports.models import KpiTarget
from reports.periods import AMSTERDAM, Period
from reports.selectors import (
    CHANGE_OUTCOMES,
    Filters,
    Values,
    between,
    change_events,
    change_scope,
    ticket_scope,
)
from tickets.models import Ticket

CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like sink: csv.writer returns each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(AMSTERDAM).isoformat(timespec="seconds")
    if isinstance(value, date | Decimal | int | float):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def stream(
    filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        # A byte order mark, so spreadsheet programs read the file as UTF-8.
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def period_slug(period: Period) -> str:
    if period.first == period.last:
        return period.first.isoformat()
    return f"{period.first.isoformat()}_{period.last.isoformat()}"


# --- KPIs and tables ----------------------------------------------------------------


KPI_HEADER = [
    "process",
    "perspective",
    "kpi",
    "label",
    "unit",
    "value",
    "target",
    "higher_is_better",
    "on_target",
]


def kpi_rows(values: Values, targets: dict[str, KpiTarget]) -> Iterator[list[Any]]:
    for kpi in kpis.KPIS:
        value = values["kpis"].get(kpi.code)
        target = targets.get(kpi.code)
        yield [
            kpi.process,
            kpi.perspective,
            kpi.code,
            str(kpi.label),
            kpi.unit,
            value,
            target.target if target else None,
            target.higher_is_better if target else kpi.higher_is_better,
            target.is_met(value) if target else None,
        ]


def table_header(spec: kpis.TableSpec) -> list[str]:
    return [str(spec.key_label), *(f"{column.label} ({column.unit})" for column in spec.columns)]


# --- Rows behind the KPIs -----------------------------------------------------------


TICKET_FIELDS = [
    ("number", "number"),
    ("type", "type"),
    ("channel", "channel"),
    ("category", "category"),
    ("priority", "priority"),
    ("status", "status"),
    ("customer__number", "customer"),
    ("assignee__username", "assignee"),
    ("department__code", "group"),
    ("created_at", "created_at"),
    ("first_response_at", "first_response_at"),
    ("resolved_at", "resolved_at"),
    ("closed_at", "closed_at"),
    ("response_business_seconds", "response_business_seconds"),
    ("resolution_business_seconds", "resolution_business_seconds"),
    ("response_due_at", "response_due_at"),
    ("resolution_due_at", "resolution_due_at"),
    ("response_breached", "response_breached"),
    ("resolution_breached", "resolution_breached"),
    ("escalated", "escalated"),
    ("extended_until", "extended_until"),
    ("resolution", "resolution"),
    ("cause_code__code", "cause_code"),
    ("subject", "subject"),
]


def ticket_rows(period: Period, filters: Filters) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Every ticket (of any type) created, answered or resolved in the period."""
    touched = (
        between("created_at", period)
        | between("first_response_at", period)
        | between("resolved_at", period)
    )
    qs = (
        Ticket.objects.filter(ticket_scope(filters))
        .filter(touched)
        .order_by("created_at", "pk")
        .values_list(*(field for field, _ in TICKET_FIELDS))
    )
    return [name for _, name in TICKET_FIELDS], qs.iterator(chunk_size=CHUNK)


def _first_event(states: list[str], field: str) -> Subquery:
    events = change_events(states).filter(object_id=OuterRef("pk")).order_by("created_at", "pk")
    if field == "to_state":
        return Subquery(events.values(field)[:1], output_field=CharField())
    return Subquery(events.values(field)[:1])


CHANGE_FIELDS = [
    "number",
    "classification",
    "emergency",
    "status",
    "decision",
    "decided_at",
    "customer__number",
    "requester_label",
    "created_at",
    "planned_start",
    "planned_end",
    "started_at",
    "finished_at",
    "outcome",
    "estimated_cost",
    "actual_cost",
    "estimated_hours",
    "actual_hours",
    "incidents_caused",
    "subject",
]


def change_rows(period: Period, filters: Filters) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Every change requested, decided or carried out in the period, with the
    times of its start and outcome from its events."""
    carried_out = change_events(CHANGE_OUTCOMES).filter(between("created_at", period))
    caused = (
        Change.caused_incidents.through.objects.filter(change_id=OuterRef("pk"))
        .values("change_id")
        .annotate(n=Count("pk"))
        .values("n")  # type: ignore[misc]  # the stubs miss the annotation
    )
    qs = (
        Change.objects.filter(change_scope(filters))
        .filter(
            between("created_at", period)
            | between("decided_at", period)
            | Q(pk__in=carried_out.values("object_id"))
        )
        .annotate(
            started_at=_first_event(["in_progress"], "created_at"),
            finished_at=_first_event(CHANGE_OUTCOMES, "created_at"),
            outcome=_first_event(CHANGE_OUTCOMES, "to_state"),
            incidents_caused=Coalesce(Subquery(caused, output_field=IntegerField()), 0),
        )
        .order_by("created_at", "pk")
        .values_list(*CHANGE_FIELDS)
    )
    header = [name.replace("__number", "") for name in CHANGE_FIELDS]
    return header, qs.iterator(chunk_size=CHUNK)


PROBLEM_FIELDS = [
    ("number", "number"),
    ("job__reference", "job"),
    ("job__customer__number", "customer"),
    ("severity", "severity"),
    ("status", "status"),
    ("assignee__username", "assignee"),
    ("created_at", "created_at"),
    ("picked_up_at", "picked_up_at"),
    ("solved_at", "solved_at"),
    ("escalated_at", "escalated_at"),
    ("cause", "cause"),
    ("solution", "solution"),
]


def backup_problem_rows(
    period: Period, filters: Filters
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Every backup problem registered or solved in the period."""
    qs: QuerySet[BackupProblem] = BackupProblem.objects.filter(
        between("created_at", period) | between("solved_at", period)
    )
    if filters.customer is not None:
        qs = qs.filter(job__customer_id=filters.customer)
    if filters.engineer is not None:
        qs = qs.filter(assignee_id=filters.engineer)
    rows = qs.order_by("created_at", "pk").values_list(*(field for field, _ in PROBLEM_FIELDS))
    return [name for _, name in PROBLEM_FIELDS], rows.iterator(chunk_size=CHUNK)
