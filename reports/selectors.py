"""Reads for the reports: one function per process computing its KPIs and
breakdown tables for a period and filters.

Every figure is an aggregate in SQL: conditional aggregates over one scan
(`Count(filter=Q(...))`, `Avg`, `Sum`) and `values().annotate()` for the
tables, never a loop over rows, so a month costs a fixed handful of queries
whatever it holds. A process function returns {"kpis": {code: value},
"tables": {code: {"rows": [[key, *values]]}}} with plain JSON values (rounded
per unit), which is also exactly what a monthly snapshot stores.

Which rows and which moment each KPI counts is a choice, written down in
docs/reports.md; in short, a KPI is counted in the period in which the thing
it measures happened (created, answered, resolved, decided, carried out,
solved, delivered, received), so a closed period's figures stay put.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, TruncDate, TruncMonth

from accounts.models import User
from backups.models import (
    BackupCheck,
    BackupProblem,
    CheckLine,
    LineState,
    ProblemStatus,
    RestoreResult,
    RestoreTest,
    Severity,
)
from changes.models import Change, ChangeStatus, Classification, Decision
from events.models import Event
from inventory.models import (
    Delivery,
    DeliveryIssue,
    MachineUpdate,
    OrderStatus,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockLevel,
    StockMovement,
    UpdateStatus,
)
from reports import kpis
from reports.models import KpiTarget, MonthlySnapshot
from reports.periods import AMSTERDAM, Period, local_date
from tickets.models import (
    Category,
    Channel,
    Department,
    Escalation,
    Extension,
    RequestStatus,
    Ticket,
    TicketType,
)

Values = dict[str, Any]

# A change is carried out when its transition to one of these is recorded.
CHANGE_OUTCOMES: list[str] = [
    ChangeStatus.IMPLEMENTED,
    ChangeStatus.FAILED,
    ChangeStatus.ROLLED_BACK,
]
# The update workflow's event (inventory.update_services.update_transition);
# a failure after these steps is a failed test, install or post-install test.
UPDATE_TRANSITION = "update.transition"
UPDATE_TEST_STEPS: list[str] = [UpdateStatus.APPROVED, UpdateStatus.TESTED, UpdateStatus.INSTALLED]
# Stock without any movement for this long counts as obsolete.
OBSOLETE_AFTER = timedelta(days=365)

_ROUNDING = {
    kpis.PERCENT: 1,
    kpis.HOURS: 2,
    kpis.DAYS: 2,
    kpis.MONEY: 2,
    kpis.RATIO: 2,
}


@dataclass(frozen=True)
class Filters:
    """Optional narrowing of a report; ids of a customer, a staff user
    (the engineer) and a ticket department (the group)."""

    customer: int | None = None
    engineer: int | None = None
    group: int | None = None

    def active(self) -> frozenset[str]:
        names = {
            kpis.CUSTOMER_FILTER: self.customer,
            kpis.ENGINEER_FILTER: self.engineer,
            kpis.GROUP_FILTER: self.group,
        }
        return frozenset(name for name, value in names.items() if value is not None)


NO_FILTERS = Filters()


# --- Helpers ------------------------------------------------------------------------


def between(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def _days_between(field: str, period: Period) -> Q:
    """For date fields that hold a local day."""
    return Q(**{f"{field}__gte": period.first, f"{field}__lte": period.last})


def _span(start: str, end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _pct(part: float | None, whole: float | None) -> float | None:
    if not whole:
        return None
    return 100.0 * (part or 0) / whole


def _hours(value: timedelta | float | None) -> float | None:
    """Hours from a timedelta (an SQL interval) or from seconds."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return seconds / 3600


def _days(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 86400


def _ratio(part: int | None, whole: int | None) -> float | None:
    return None if not whole else (part or 0) / whole


def _number(value: Any, unit: str) -> int | float | None:
    """A JSON-safe value rounded to the unit's precision."""
    if value is None:
        return None
    if unit == kpis.COUNT:
        return int(value)
    return round(float(value), _ROUNDING.get(unit, 2))


def _month_key(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(AMSTERDAM).date() if value.tzinfo else value.date()
    return f"{value:%Y-%m}"


def _finish(process: str, values: dict[str, Any], tables: dict[str, list[list[Any]]]) -> Values:
    """Round every value by its unit, in the catalogue's order."""
    out_kpis = {kpi.code: _number(values.get(kpi.code), kpi.unit) for kpi in kpis.kpis_of(process)}
    out_tables = {}
    for spec in kpis.tables_of(process):
        rows = tables.get(spec.code, [])
        out_tables[spec.code] = {
            "rows": [
                [
                    row[0],
                    *(_number(v, col.unit) for v, col in zip(row[1:], spec.columns, strict=True)),
                ]
                for row in rows
            ]
        }
    return {"kpis": out_kpis, "tables": out_tables}


def _person(username: str | None, first: str | None, last: str | None) -> str:
    if not username:
        return ""
    full = f"{first or ''} {last or ''}".strip()
    return f"{full} ({username})" if full else username


# --- Incidents ------------------------------------------------------------------------


def ticket_scope(filters: Filters, prefix: str = "") -> Q:
    scope = Q()
    if filters.customer is not None:
        scope &= Q(**{f"{prefix}customer_id": filters.customer})
    if filters.engineer is not None:
        scope &= Q(**{f"{prefix}assignee_id": filters.engineer})
    if filters.group is not None:
        scope &= Q(**{f"{prefix}department_id": filters.group})
    return scope


def incident_kpis(*, period: Period, filters: Filters = NO_FILTERS) -> Values:
    """Incidents: one scan over the tickets the period touches (created,
    answered, resolved or breached in it) gives the counts, averages, SLA
    shares and the type/channel/category tables; the cause, engineer and
    group tables, extensions and escalations are one query each."""
    scope = ticket_scope(filters)
    incident = Q(type=TicketType.INCIDENT)
    created = between("created_at", period)
    responded = incident & between("first_response_at", period)
    resolved = incident & between("resolved_at", period)
    response_breach = incident & between("response_breach_recorded_at", period)
    resolution_breach = incident & between("resolution_breach_recorded_at", period)
    response_target = responded & Q(response_due_at__isnull=False)
    resolution_target = resolved & Q(resolution_due_at__isnull=False)
    aggregates: dict[str, Any] = {
        "count": Count("pk", filter=incident & created),
        "response_seconds": Avg("response_business_seconds", filter=responded),
        "response_wall": Avg(_span("created_at", "first_response_at"), filter=responded),
        "resolution_seconds": Avg("resolution_business_seconds", filter=resolved),
        "resolution_wall": Avg(_span("created_at", "resolved_at"), filter=resolved),
        "resolved": Count("pk", filter=resolved),
        "unescalated": Count("pk", filter=resolved & Q(escalated=False)),
        "response_targeted": Count("pk", filter=response_target),
        "response_met": Count("pk", filter=response_target & Q(response_breached=False)),
        "resolution_targeted": Count("pk", filter=resolution_target),
        "resolution_met": Count("pk", filter=resolution_target & Q(resolution_breached=False)),
        "breaches": Count("pk", filter=response_breach) + Count("pk", filter=resolution_breach),
    }
    breakdowns = {"type": TicketType.values, "channel": Channel.values, "category": Category.values}
    for field, choices in breakdowns.items():
        for choice in choices:
            aggregates[f"{field}_{choice}"] = Count("pk", filter=created & Q(**{field: choice}))
    row = (
        Ticket.objects.filter(scope)
        .filter(created | responded | resolved | response_breach | resolution_breach)
        .aggregate(**aggregates)
    )
    values = {
        "incidents.count": row["count"],
        "incidents.response_hours": _hours(row["response_seconds"]),
        "incidents.response_wall_hours": _hours(row["response_wall"]),
        "incidents.resolution_hours": _hours(row["resolution_seconds"]),
        "incidents.resolution_wall_hours": _hours(row["resolution_wall"]),
        "incidents.without_escalation_pct": _pct(row["unescalated"], row["resolved"]),
        "incidents.response_sla_pct": _pct(row["response_met"], row["response_targeted"]),
        "incidents.resolution_sla_pct": _pct(row["resolution_met"], row["resolution_targeted"]),
        "incidents.breaches": row["breaches"],
        "incidents.extensions": Extension.objects.filter(
            ticket_scope(filters, "ticket__"),
            between("decided_at", period),
            ticket__type=TicketType.INCIDENT,
            status=RequestStatus.APPROVED,
        ).count(),
        "incidents.escalations": Escalation.objects.filter(
            ticket_scope(filters, "ticket__"),
            between("decided_at", period),
            ticket__type=TicketType.INCIDENT,
            status=RequestStatus.APPROVED,
        ).count(),
    }
    tables: dict[str, list[list[Any]]] = {
        f"incidents.by_{field}": [[choice, row[f"{field}_{choice}"]] for choice in choices]
        for field, choices in breakdowns.items()
    }
    tables["incidents.by_cause"] = [
        [name or "", count]
        for name, count in Ticket.objects.filter(scope, resolved)
        .values_list("cause_code__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "cause_code__name")
    ]
    tables["incidents.by_engineer"], tables["incidents.by_group"] = _incidents_by_people(
        scope, created & incident, resolved
    )
    return _finish(kpis.INCIDENTS, values, tables)


def _incidents_by_people(scope: Q, created: Q, resolved: Q) -> tuple[list[Any], list[Any]]:
    """Per engineer and per group from ONE grouped scan on the integer keys
    (no join, no sort of names: a hash aggregate), rolled up here over at most
    engineers x groups rows; names come from two small lookups."""
    resolution_target = resolved & Q(resolution_due_at__isnull=False)
    rows = list(
        Ticket.objects.filter(scope)
        .filter(created | resolved)
        .values_list("assignee_id", "department_id")
        .annotate(
            created=Count("pk", filter=created),
            resolved=Count("pk", filter=resolved),
            seconds=Sum("resolution_business_seconds", filter=resolved),
            timed=Count("resolution_business_seconds", filter=resolved),
            targeted=Count("pk", filter=resolution_target),
            met=Count("pk", filter=resolution_target & Q(resolution_breached=False)),
        )
        .order_by()
    )
    people = {
        user.pk: _person(user.username, user.first_name, user.last_name)
        for user in User.objects.filter(pk__in={r[0] for r in rows if r[0]}).only(
            "username", "first_name", "last_name"
        )
    }
    groups = dict(
        Department.objects.filter(pk__in={r[1] for r in rows if r[1]}).values_list("pk", "name")
    )
    by_engineer = _roll_up(rows, lambda r: people.get(r[0], "") if r[0] else "")
    by_group = _roll_up(rows, lambda r: groups.get(r[1], "") if r[1] else "")
    return by_engineer, by_group


def _roll_up(rows: list[Any], key: Any) -> list[list[Any]]:
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(key(row), [0, 0, 0, 0, 0, 0])
        for i, value in enumerate(row[2:]):
            total[i] += value or 0
    table = [
        [
            name,
            created,
            resolved,
            _hours(seconds / timed) if timed else None,
            _pct(met, targeted),
        ]
        for name, (created, resolved, seconds, timed, targeted, met) in totals.items()
    ]
    # Unassigned and "no group" last; the rest by name.
    return sorted(table, key=lambda row: (row[0] == "", row[0]))


# --- Changes --------------------------------------------------------------------------


def change_scope(filters: Filters) -> Q:
    scope = Q()
    if filters.customer is not None:
        scope &= Q(customer_id=filters.customer)
    if filters.engineer is not None:
        scope &= Q(requester_id=filters.engineer)
    return scope


def change_events(states: list[str]) -> Any:
    """A change's transition events to one of `states`. The content type is
    matched by name in SQL, so the query is the same on a cold cache."""
    return Event.objects.filter(
        content_type__app_label="changes",
        content_type__model="change",
        kind="change.transition",
        to_state__in=states,
    )


def change_kpis(*, period: Period, filters: Filters = NO_FILTERS) -> Values:
    """Changes: requests by classification (created in the period), the
    change manager's decisions (decided in it) and the changes carried out
    (their outcome recorded in it), with plan, cost and caused incidents."""
    scope = change_scope(filters)
    created = between("created_at", period)
    decided = between("decided_at", period) & ~Q(decision="")
    row = (
        Change.objects.filter(scope)
        .filter(created | decided)
        .aggregate(
            minor=Count("pk", filter=created & Q(classification=Classification.MINOR)),
            major=Count("pk", filter=created & Q(classification=Classification.MAJOR)),
            emergency=Count("pk", filter=created & Q(emergency=True)),
            decided=Count("pk", filter=decided),
            approved=Count("pk", filter=decided & Q(decision=Decision.APPROVED)),
            rejected=Count("pk", filter=decided & Q(decision=Decision.REJECTED)),
        )
    )
    outcomes = change_events(CHANGE_OUTCOMES)
    first_outcome = outcomes.filter(object_id=OuterRef("pk")).order_by("created_at", "pk")
    carried_out_ids = Change.objects.filter(
        scope, pk__in=outcomes.filter(between("created_at", period)).values("object_id")
    ).values("pk")
    carried_out = Change.objects.filter(pk__in=carried_out_ids).annotate(
        finished_at=Subquery(first_outcome.values("created_at")[:1]),
        outcome=Subquery(first_outcome.values("to_state")[:1]),
    )
    caused = Change.caused_incidents.through.objects.filter(change_id__in=carried_out_ids).count()
    planned = Q(planned_end__isnull=False)
    in_time = planned & Q(finished_at__lte=F("planned_end"))
    cost_ok = (
        Q(estimated_cost__isnull=True)
        | Q(actual_cost__isnull=True)
        | Q(actual_cost__lte=F("estimated_cost"))
    )
    hours_ok = (
        Q(estimated_hours__isnull=True)
        | Q(actual_hours__isnull=True)
        | Q(actual_hours__lte=F("estimated_hours"))
    )
    done = carried_out.aggregate(
        done=Count("pk"),
        planned=Count("pk", filter=planned),
        in_time=Count("pk", filter=in_time),
        cost=Count("pk", filter=planned & cost_ok),
        hours=Count("pk", filter=planned & hours_ok),
        within=Count("pk", filter=in_time & cost_ok & hours_ok),
        failed=Count("pk", filter=Q(outcome__in=[ChangeStatus.FAILED, ChangeStatus.ROLLED_BACK])),
        estimated=Sum("estimated_cost"),
        actual=Sum("actual_cost"),
    )
    values = {
        "changes.minor": row["minor"],
        "changes.major": row["major"],
        "changes.emergency": row["emergency"],
        "changes.approved_pct": _pct(row["approved"], row["decided"]),
        "changes.rejected_pct": _pct(row["rejected"], row["decided"]),
        "changes.within_plan_pct": _pct(done["within"], done["planned"]),
        "changes.estimated_cost": done["estimated"] or Decimal(0),
        "changes.actual_cost": done["actual"] or Decimal(0),
        "changes.failed": done["failed"],
        "changes.failures_per_change": _ratio(caused, done["done"]),
    }
    plan_counts = {
        "evaluated": done["planned"],
        "time": done["in_time"],
        "cost": done["cost"],
        "hours": done["hours"],
        "all": done["within"],
    }
    tables = {
        "changes.per_month": _changes_per_month(scope, period, created, decided),
        "changes.plan": [
            [key, count, _pct(count, done["planned"])] for key, count in plan_counts.items()
        ],
    }
    return _finish(kpis.CHANGES, values, tables)


def _changes_per_month(scope: Q, period: Period, created: Q, decided: Q) -> list[list[Any]]:
    requested = {
        _month_key(r["month"]): r
        for r in Change.objects.filter(scope, created)
        .annotate(month=TruncMonth("created_at", tzinfo=AMSTERDAM))
        .values("month")
        .annotate(
            minor=Count("pk", filter=Q(classification=Classification.MINOR)),
            major=Count("pk", filter=Q(classification=Classification.MAJOR)),
        )
        .order_by("month")
    }
    decisions = {
        _month_key(r["month"]): r
        for r in Change.objects.filter(scope, decided)
        .annotate(month=TruncMonth("decided_at", tzinfo=AMSTERDAM))
        .values("month")
        .annotate(
            decided=Count("pk"),
            approved=Count("pk", filter=Q(decision=Decision.APPROVED)),
            rejected=Count("pk", filter=Q(decision=Decision.REJECTED)),
        )
        .order_by("month")
    }
    rows = []
    for month in period.months():
        key = _month_key(month)
        req = requested.get(key, {})
        dec = decisions.get(key, {})
        rows.append(
            [
                key,
                req.get("minor", 0),
                req.get("major", 0),
                dec.get("decided", 0),
                _pct(dec.get("approved"), dec.get("decided")),
                _pct(dec.get("rejected"), dec.get("decided")),
            ]
        )
    return rows


# --- Backups --------------------------------------------------------------------------


def backup_kpis(*, period: Period, filters: Filters = NO_FILTERS) -> Values:
    """Backup checks completed in the period and their lead time; problems
    registered in it by severity and whether they were solved by its end;
    missing runs on the period's checks; restore tests performed in it."""
    check_scope: list[Any] = []
    problem_scope = Q()
    line_scope = Q()
    restore_scope = Q()
    if filters.customer is not None:
        check_scope.append(
            Exists(
                CheckLine.objects.filter(
                    backup_check=OuterRef("pk"), job__customer=filters.customer
                )
            )
        )
        problem_scope &= Q(job__customer_id=filters.customer)
        line_scope &= Q(job__customer_id=filters.customer)
        restore_scope &= Q(job__customer_id=filters.customer)
    if filters.engineer is not None:
        check_scope.append(Q(task__assignee_id=filters.engineer))
        problem_scope &= Q(assignee_id=filters.engineer)
        line_scope &= Q(backup_check__task__assignee_id=filters.engineer)
        restore_scope &= Q(performed_by_id=filters.engineer)
    checks = BackupCheck.objects.filter(*check_scope, between("completed_at", period)).aggregate(
        done=Count("pk"), lead=Avg(_span("created_at", "completed_at"))
    )
    solved = Q(status=ProblemStatus.SOLVED, solved_at__lt=period.end)
    severity_counts: dict[str, Any] = {}
    for severity in Severity.values:
        severity_counts[f"{severity}_all"] = Count("pk", filter=Q(severity=severity))
        severity_counts[f"{severity}_solved"] = Count("pk", filter=Q(severity=severity) & solved)
    problems = BackupProblem.objects.filter(problem_scope, between("created_at", period)).aggregate(
        total=Count("pk"), solved=Count("pk", filter=solved), **severity_counts
    )
    restores = RestoreTest.objects.filter(
        restore_scope, _days_between("performed_on", period)
    ).aggregate(done=Count("pk"), failed=Count("pk", filter=Q(result=RestoreResult.FAILED)))
    values = {
        "backups.checks_done": checks["done"],
        "backups.check_lead_hours": _hours(checks["lead"]),
        "backups.problems": problems["total"],
        "backups.solved_pct": _pct(problems["solved"], problems["total"]),
        "backups.not_solved_pct": _pct(problems["total"] - problems["solved"], problems["total"]),
        "backups.missing_runs": CheckLine.objects.filter(
            line_scope,
            _days_between("backup_check__day", period),
            state=LineState.MISSING,
        ).count(),
        "backups.restore_tests": restores["done"],
        "backups.restore_failed": restores["failed"],
    }
    tables = {
        "backups.by_severity": [
            [
                severity,
                problems[f"{severity}_all"],
                problems[f"{severity}_solved"],
                problems[f"{severity}_all"] - problems[f"{severity}_solved"],
            ]
            for severity in Severity.values
        ]
    }
    return _finish(kpis.BACKUPS, values, tables)


# --- Machine updates ------------------------------------------------------------------


def update_kpis(*, period: Period, filters: Filters = NO_FILTERS) -> Values:
    """Updates installed in the period, the distinct software versions they
    brought, and the failures at a test, install or post-install test
    step recorded in it (from the update's events, so a failure that was
    later retried still counts)."""
    scope = Q()
    if filters.customer is not None:
        scope &= Q(item__customer_id=filters.customer)
    if filters.engineer is not None:
        scope &= Q(engineer_id=filters.engineer)
    installed = MachineUpdate.objects.filter(scope, between("installed_at", period))
    row = installed.aggregate(
        installed=Count("pk"),
        versions=Count(
            Concat("software", Value(" "), "new_version", output_field=CharField()),
            distinct=True,
        ),
    )
    failures = Event.objects.filter(
        between("created_at", period),
        content_type__app_label="inventory",
        content_type__model="machineupdate",
        kind=UPDATE_TRANSITION,
        to_state=UpdateStatus.FAILED,
        from_state__in=UPDATE_TEST_STEPS,
    )
    if scope:
        failures = failures.filter(object_id__in=MachineUpdate.objects.filter(scope).values("pk"))
    values = {
        "updates.installed": row["installed"],
        "updates.versions": row["versions"],
        "updates.failed": failures.count(),
    }
    tables = {
        "updates.by_software": [
            [f"{software} {version}", machines]
            for software, version, machines in installed.values_list("software", "new_version")
            .annotate(machines=Count("item", distinct=True))
            .order_by("software", "new_version")
        ]
    }
    return _finish(kpis.UPDATES, values, tables)


# --- Deliveries -----------------------------------------------------------------------


def delivery_kpis(*, period: Period, filters: Filters = NO_FILTERS) -> Values:
    """Environments delivered in the period, their lead time from request
    to delivery, acceptance on the first customer test, and the issues
    recorded during deliveries in the period."""
    scope: dict[str, int] = {}
    if filters.customer is not None:
        scope["customer_id"] = filters.customer
    if filters.engineer is not None:
        scope["engineer_id"] = filters.engineer
    delivered = Delivery.objects.filter(between("delivered_at", period), **scope)
    lead = _span("requested_at", "delivered_at")
    row = delivered.aggregate(
        delivered=Count("pk"),
        lead=Avg(lead),
        tested=Count("pk", filter=Q(customer_test_rounds__gte=1)),
        first=Count("pk", filter=Q(customer_test_rounds=1)),
    )
    per_month = {
        _month_key(r["month"]): r
        for r in delivered.annotate(month=TruncMonth("delivered_at", tzinfo=AMSTERDAM))
        .values("month")
        .annotate(n=Count("pk"), lead=Avg(lead))
        .order_by("month")
    }
    values = {
        "deliveries.lead_days": _days(row["lead"]),
        "deliveries.delivered": row["delivered"],
        "deliveries.errors": DeliveryIssue.objects.filter(
            between("recorded_at", period), **{f"delivery__{k}": v for k, v in scope.items()}
        ).count(),
        "deliveries.first_test_pct": _pct(row["first"], row["tested"]),
    }
    tables = {
        "deliveries.per_month": [
            [
                _month_key(month),
                per_month.get(_month_key(month), {}).get("n", 0),
                _days(per_month.get(_month_key(month), {}).get("lead")),
            ]
            for month in period.months()
        ]
    }
    return _finish(kpis.DELIVERIES, values, tables)


# --- Stock ----------------------------------------------------------------------------


def _quantity_at(moment: datetime) -> Case:
    """A stock level's quantity at `moment`, for StockLevel rows: the balance
    after the last ledger movement before it. A level without any ledger row
    (loaded before the ledger existed) counts its current quantity."""
    ledger = StockMovement.objects.filter(
        product=OuterRef("product"), location=OuterRef("location")
    )
    last = ledger.filter(created_at__lt=moment).order_by("-created_at", "-pk")
    return Case(
        When(
            Exists(ledger),
            then=Coalesce(Subquery(last.values("balance_after")[:1]), 0),
        ),
        default=F("quantity"),
        output_field=IntegerField(),
    )


def stock_kpis(*, period: Period, now: datetime) -> Values:
    """Purchase orders due in the period (whose expected day has passed) and
    received in it, per supplier; order lines due in it that were not complete
    by their expected day; stock value and obsolete stock per location and
    the products at or below their reorder level at the period's end (or
    now, for a period still running), from the movement ledger."""
    # Due: expected in the period, and the expected day is over (an order
    # expected later today is not late yet).
    due_on = {
        "expected_on__gte": period.first,
        "expected_on__lte": period.last,
        "expected_on__lt": local_date(now),
    }
    due = Q(**due_on)
    received = between("received_at", period)
    on_time = Q(received_at__isnull=False, received_day__lte=F("expected_on"))
    suppliers = list(
        PurchaseOrder.objects.exclude(status=OrderStatus.CANCELLED)
        .annotate(received_day=TruncDate("received_at", tzinfo=AMSTERDAM))
        .filter(due | received)
        .values_list("supplier__name")
        .annotate(
            due=Count("pk", filter=due),
            due_on_time=Count("pk", filter=due & on_time),
            received=Count("pk", filter=received),
            received_on_time=Count("pk", filter=received & on_time),
            delivery=Avg(_span("ordered_at", "received_at"), filter=received),
        )
        .order_by("supplier__name")
    )
    total_due = sum(r[1] for r in suppliers)
    total_received = sum(r[3] for r in suppliers)
    delivery_days = (
        sum((_days(r[5]) or 0) * r[3] for r in suppliers) / total_received
        if total_received
        else None
    )
    on_time_qty = (
        Receipt.objects.annotate(received_day=TruncDate("received_at", tzinfo=AMSTERDAM))
        .filter(order_line=OuterRef("pk"), received_day__lte=OuterRef("order__expected_on"))
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    lines = (
        PurchaseOrderLine.objects.filter(**{f"order__{k}": v for k, v in due_on.items()})
        .exclude(order__status=OrderStatus.CANCELLED)
        .annotate(on_time=Coalesce(Subquery(on_time_qty, output_field=IntegerField()), 0))
        .aggregate(lines=Count("pk"), back=Count("pk", filter=Q(on_time__lt=F("quantity"))))
    )
    at = min(period.end, now)
    locations = list(
        StockLevel.objects.annotate(
            qty=_quantity_at(at),
            moved=Exists(
                StockMovement.objects.filter(
                    product=OuterRef("product"),
                    location=OuterRef("location"),
                    created_at__gte=at - OBSOLETE_AFTER,
                    created_at__lt=at,
                )
            ),
            value=ExpressionWrapper(
                F("qty") * F("product__unit_price"),
                output_field=DecimalField(max_digits=16, decimal_places=2),
            ),
        )
        .values_list("location__name")
        .annotate(
            total=Sum("value"),
            obsolete=Sum("value", filter=Q(product__active=False) | Q(moved=False)),
        )
        .order_by("location__name")
    )
    stock_value = sum((r[1] or Decimal(0) for r in locations), Decimal(0))
    obsolete_value = sum((r[2] or Decimal(0) for r in locations), Decimal(0))
    per_product = (
        StockLevel.objects.filter(product=OuterRef("pk"))
        .annotate(qty=_quantity_at(at))
        .values("product")
        .annotate(total=Sum("qty"))
        .values("total")
    )
    below = (
        Product.objects.filter(active=True, reorder_level__gt=0)
        .annotate(total=Coalesce(Subquery(per_product, output_field=IntegerField()), 0))
        .filter(total__lte=F("reorder_level"))
        .count()
    )
    values = {
        "stock.reliability_pct": _pct(sum(r[2] for r in suppliers), total_due),
        "stock.delivery_days": delivery_days,
        "stock.on_time_pct": _pct(sum(r[4] for r in suppliers), total_received),
        "stock.backorder_pct": _pct(lines["back"], lines["lines"]),
        "stock.value": stock_value,
        "stock.obsolete_pct": _pct(float(obsolete_value), float(stock_value)),
        "stock.below_reorder": below,
    }
    tables = {
        "stock.by_supplier": [
            [name, n_due, _pct(due_ok, n_due), n_received, _pct(received_ok, n_received), _days(d)]
            for name, n_due, due_ok, n_received, received_ok, d in suppliers
        ],
        "stock.by_location": [
            [name, total or 0, obsolete or 0] for name, total, obsolete in locations
        ],
    }
    return _finish(kpis.STOCK, values, tables)


# --- All processes --------------------------------------------------------------------


def process_values(
    process: str, *, period: Period, now: datetime, filters: Filters = NO_FILTERS
) -> Values:
    """The KPIs and tables of one process."""
    if process == kpis.STOCK:
        return stock_kpis(period=period, now=now)
    compute = {
        kpis.INCIDENTS: incident_kpis,
        kpis.CHANGES: change_kpis,
        kpis.BACKUPS: backup_kpis,
        kpis.UPDATES: update_kpis,
        kpis.DELIVERIES: delivery_kpis,
    }[process]
    return compute(period=period, filters=filters)


def report_values(*, period: Period, now: datetime, filters: Filters = NO_FILTERS) -> Values:
    """Every KPI and table of every process for the period: the dashboard's
    live figures and what a monthly snapshot stores."""
    values: Values = {"kpis": {}, "tables": {}}
    for process in kpis.PROCESSES:
        part = process_values(process, period=period, now=now, filters=filters)
        values["kpis"].update(part["kpis"])
        values["tables"].update(part["tables"])
    return values


def targets_by_kpi() -> dict[str, KpiTarget]:
    return {target.kpi: target for target in KpiTarget.objects.all()}


def snapshots_for(months: list[date]) -> dict[date, MonthlySnapshot]:
    """The snapshots of the given months (first days) that exist, in one query."""
    return {snap.month: snap for snap in MonthlySnapshot.objects.filter(month__in=months)}
