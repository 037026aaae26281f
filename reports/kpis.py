"""The KPI catalogue: every KPI the reports compute, with its process (one
dashboard panel each), balanced-scorecard perspective, unit and which
direction is better; and the breakdown tables beside them. Data, not code:
the selectors fill values by these codes, the dashboard, CSV and snapshots
read them. The exact definitions are in docs/reports.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # the type of gettext_lazy's strings exists only in the stubs
    from django.utils.functional import _StrPromise as Lazy

# --- Processes, perspectives, units -----------------------------------------------

INCIDENTS = "incidents"
CHANGES = "changes"
BACKUPS = "backups"
UPDATES = "updates"
DELIVERIES = "deliveries"
STOCK = "stock"

PROCESSES: dict[str, Lazy] = {
    INCIDENTS: _("Incident management"),
    CHANGES: _("Change management"),
    BACKUPS: _("Backup checks"),
    UPDATES: _("Machine updates"),
    DELIVERIES: _("Deliveries"),
    STOCK: _("Stock"),
}

CUSTOMER = "customer"
INTERNAL = "internal"
FINANCIAL = "financial"
LEARNING = "learning"

PERSPECTIVES: dict[str, Lazy] = {
    CUSTOMER: _("Customer"),
    INTERNAL: _("Internal process"),
    FINANCIAL: _("Financial"),
    LEARNING: _("Learning and growth"),
}

COUNT = "count"
PERCENT = "percent"
HOURS = "hours"
DAYS = "days"
MONEY = "money"
RATIO = "ratio"

UNITS: dict[str, Lazy] = {
    COUNT: _("number"),
    PERCENT: _("percent"),
    HOURS: _("hours"),
    DAYS: _("days"),
    MONEY: _("euro"),
    RATIO: _("ratio"),
}

HIGHER = "higher"
LOWER = "lower"
NEUTRAL = ""  # a volume: neither more nor less is better by itself

# The filters each process honours; the others are named on its panel as
# not applied. Stock is a company matter: suppliers and warehouses, not
# customers or engineers.
CUSTOMER_FILTER = "customer"
ENGINEER_FILTER = "engineer"
GROUP_FILTER = "group"
FILTERS: dict[str, frozenset[str]] = {
    INCIDENTS: frozenset({CUSTOMER_FILTER, ENGINEER_FILTER, GROUP_FILTER}),
    CHANGES: frozenset({CUSTOMER_FILTER, ENGINEER_FILTER}),
    BACKUPS: frozenset({CUSTOMER_FILTER, ENGINEER_FILTER}),
    UPDATES: frozenset({CUSTOMER_FILTER, ENGINEER_FILTER}),
    DELIVERIES: frozenset({CUSTOMER_FILTER, ENGINEER_FILTER}),
    STOCK: frozenset(),
}


@dataclass(frozen=True)
class Kpi:
    code: str
    label: Lazy
    process: str
    perspective: str
    unit: str
    better: str

    @property
    def higher_is_better(self) -> bool | None:
        return {HIGHER: True, LOWER: False}.get(self.better)

    @property
    def unit_label(self) -> Lazy:
        return UNITS[self.unit]

    @property
    def slug(self) -> str:
        """For HTML ids: "incidents.response_sla_pct" → "incidents-response-sla-pct"."""
        return _slug(self.code)


def _slug(code: str) -> str:
    return code.replace(".", "-").replace("_", "-")


def _kpi(code: str, label: Lazy, perspective: str, unit: str, better: str) -> Kpi:
    return Kpi(code, label, code.split(".", 1)[0], perspective, unit, better)


KPIS: tuple[Kpi, ...] = (
    # Incident management (seed L4566-L4578)
    _kpi("incidents.count", _("Incidents"), INTERNAL, COUNT, NEUTRAL),
    _kpi(
        "incidents.response_hours",
        _("Average response time (business hours)"),
        CUSTOMER,
        HOURS,
        LOWER,
    ),
    _kpi(
        "incidents.response_wall_hours",
        _("Average response time (clock hours)"),
        CUSTOMER,
        HOURS,
        LOWER,
    ),
    _kpi(
        "incidents.resolution_hours",
        _("Average resolution time (business hours)"),
        CUSTOMER,
        HOURS,
        LOWER,
    ),
    _kpi(
        "incidents.resolution_wall_hours",
        _("Average resolution time (clock hours)"),
        CUSTOMER,
        HOURS,
        LOWER,
    ),
    _kpi("incidents.extensions", _("Extensions"), INTERNAL, COUNT, LOWER),
    _kpi("incidents.escalations", _("Escalations"), INTERNAL, COUNT, LOWER),
    _kpi(
        "incidents.without_escalation_pct",
        _("Resolved without escalation"),
        LEARNING,
        PERCENT,
        HIGHER,
    ),
    _kpi("incidents.response_sla_pct", _("Response within SLA"), CUSTOMER, PERCENT, HIGHER),
    _kpi("incidents.resolution_sla_pct", _("Resolution within SLA"), CUSTOMER, PERCENT, HIGHER),
    _kpi("incidents.breaches", _("SLA breaches"), CUSTOMER, COUNT, LOWER),
    # Change management (L5189-L5199)
    _kpi("changes.minor", _("Minor changes requested"), INTERNAL, COUNT, NEUTRAL),
    _kpi("changes.major", _("Major changes requested"), INTERNAL, COUNT, NEUTRAL),
    _kpi("changes.emergency", _("Emergency changes"), INTERNAL, COUNT, LOWER),
    _kpi("changes.approved_pct", _("Approved"), INTERNAL, PERCENT, HIGHER),
    _kpi("changes.rejected_pct", _("Rejected"), INTERNAL, PERCENT, LOWER),
    _kpi(
        "changes.within_plan_pct",
        _("Within planned time and resources"),
        INTERNAL,
        PERCENT,
        HIGHER,
    ),
    _kpi("changes.estimated_cost", _("Estimated cost"), FINANCIAL, MONEY, NEUTRAL),
    _kpi("changes.actual_cost", _("Actual cost"), FINANCIAL, MONEY, LOWER),
    _kpi("changes.failed", _("Failed or rolled back"), INTERNAL, COUNT, LOWER),
    _kpi(
        "changes.failures_per_change",
        _("Incidents caused per change"),
        LEARNING,
        RATIO,
        LOWER,
    ),
    # Backup checks (L1418-L1426)
    _kpi("backups.checks_done", _("Checks done"), INTERNAL, COUNT, NEUTRAL),
    _kpi("backups.check_lead_hours", _("Average check lead time"), INTERNAL, HOURS, LOWER),
    _kpi("backups.problems", _("Backup problems"), INTERNAL, COUNT, LOWER),
    _kpi("backups.solved_pct", _("Problems solved"), INTERNAL, PERCENT, HIGHER),
    _kpi("backups.not_solved_pct", _("Problems not solved"), INTERNAL, PERCENT, LOWER),
    _kpi("backups.missing_runs", _("Missing runs"), INTERNAL, COUNT, LOWER),
    _kpi("backups.restore_tests", _("Restore tests done"), LEARNING, COUNT, HIGHER),
    _kpi("backups.restore_failed", _("Restore tests failed"), LEARNING, COUNT, LOWER),
    # Machine updates (L2044-L2048)
    _kpi("updates.installed", _("Updates installed"), INTERNAL, COUNT, NEUTRAL),
    _kpi("updates.versions", _("Software versions updated"), LEARNING, COUNT, HIGHER),
    _kpi("updates.failed", _("Failed update tests"), INTERNAL, COUNT, LOWER),
    # Deliveries (L2706-L2714)
    _kpi(
        "deliveries.lead_days",
        _("Average lead time order to delivery"),
        CUSTOMER,
        DAYS,
        LOWER,
    ),
    _kpi("deliveries.delivered", _("Machines delivered"), CUSTOMER, COUNT, NEUTRAL),
    _kpi("deliveries.errors", _("Errors during delivery"), INTERNAL, COUNT, LOWER),
    _kpi(
        "deliveries.first_test_pct",
        _("Accepted on the first customer test"),
        CUSTOMER,
        PERCENT,
        HIGHER,
    ),
    # Stock (L5671-L5685)
    _kpi("stock.reliability_pct", _("Supplier delivery reliability"), INTERNAL, PERCENT, HIGHER),
    _kpi("stock.delivery_days", _("Average supplier delivery time"), INTERNAL, DAYS, LOWER),
    _kpi("stock.on_time_pct", _("On-time deliveries"), INTERNAL, PERCENT, HIGHER),
    _kpi("stock.backorder_pct", _("Back-orders"), INTERNAL, PERCENT, LOWER),
    _kpi("stock.value", _("Stock value"), FINANCIAL, MONEY, NEUTRAL),
    _kpi("stock.obsolete_pct", _("Obsolete stock"), FINANCIAL, PERCENT, LOWER),
    _kpi("stock.below_reorder", _("Products below reorder level"), INTERNAL, COUNT, LOWER),
)

BY_CODE: dict[str, Kpi] = {kpi.code: kpi for kpi in KPIS}


def kpis_of(process: str) -> list[Kpi]:
    return [kpi for kpi in KPIS if kpi.process == process]


def kpis_in(perspective: str) -> list[Kpi]:
    return [kpi for kpi in KPIS if kpi.perspective == perspective]


# --- Breakdown tables ---------------------------------------------------------------

TEXT = "text"
MONTH_KEY = "month"  # keys are "YYYY-MM"
CHOICE = "choice"  # keys are choice values, labelled by `choices()`


@dataclass(frozen=True)
class Column:
    key: str
    label: Lazy
    unit: str


@dataclass(frozen=True)
class TableSpec:
    code: str
    label: Lazy
    process: str
    key_label: Lazy
    key_kind: str
    columns: tuple[Column, ...]
    # For CHOICE keys: () -> {value: label}; imported lazily, as the choices
    # live in the apps' models.
    choices: Callable[[], dict[str, str]] | None = field(default=None, compare=False)

    @property
    def slug(self) -> str:
        return _slug(self.code)


def _ticket_types() -> dict[str, str]:
    from tickets.models import TicketType

    return {value: str(label) for value, label in TicketType.choices}


def _channels() -> dict[str, str]:
    from tickets.models import Channel

    return {value: str(label) for value, label in Channel.choices}


def _categories() -> dict[str, str]:
    from tickets.models import Category

    return {value: str(label) for value, label in Category.choices}


def _severities() -> dict[str, str]:
    from backups.models import Severity

    return {value: str(label) for value, label in Severity.choices}


# The rows of the changes.plan table: of the changes carried out in the period
# (with a planned end), how many kept to the plan on each count.
PLAN_MEASURES: dict[str, Lazy] = {
    "evaluated": _("Carried out with a planned end"),
    "time": _("Finished by the planned end"),
    "cost": _("Within the estimated cost"),
    "hours": _("Within the estimated effort"),
    "all": _("Within planned time and resources"),
}

_TICKETS = Column("tickets", _("Tickets"), COUNT)
_INCIDENTS_RESOLVED = Column("resolved", _("Resolved"), COUNT)

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "incidents.by_type",
        _("Tickets by type"),
        INCIDENTS,
        _("Type"),
        CHOICE,
        (_TICKETS,),
        _ticket_types,
    ),
    TableSpec(
        "incidents.by_channel",
        _("Tickets by channel"),
        INCIDENTS,
        _("Channel"),
        CHOICE,
        (_TICKETS,),
        _channels,
    ),
    TableSpec(
        "incidents.by_category",
        _("Tickets by category"),
        INCIDENTS,
        _("Category"),
        CHOICE,
        (_TICKETS,),
        _categories,
    ),
    TableSpec(
        "incidents.by_cause",
        _("Resolved incidents by cause code"),
        INCIDENTS,
        _("Cause"),
        TEXT,
        (_INCIDENTS_RESOLVED,),
    ),
    TableSpec(
        "incidents.by_engineer",
        _("Incidents by engineer"),
        INCIDENTS,
        _("Engineer"),
        TEXT,
        (
            Column("created", _("Created"), COUNT),
            Column("resolved", _("Resolved"), COUNT),
            Column("resolution_hours", _("Average resolution time (business hours)"), HOURS),
            Column("resolution_sla_pct", _("Resolution within SLA"), PERCENT),
        ),
    ),
    TableSpec(
        "incidents.by_group",
        _("Incidents by group"),
        INCIDENTS,
        _("Group"),
        TEXT,
        (
            Column("created", _("Created"), COUNT),
            Column("resolved", _("Resolved"), COUNT),
            Column("resolution_hours", _("Average resolution time (business hours)"), HOURS),
            Column("resolution_sla_pct", _("Resolution within SLA"), PERCENT),
        ),
    ),
    TableSpec(
        "changes.per_month",
        _("Changes per month"),
        CHANGES,
        _("Month"),
        MONTH_KEY,
        (
            Column("minor", _("Minor requested"), COUNT),
            Column("major", _("Major requested"), COUNT),
            Column("decided", _("Decided"), COUNT),
            Column("approved_pct", _("Approved"), PERCENT),
            Column("rejected_pct", _("Rejected"), PERCENT),
        ),
    ),
    TableSpec(
        "changes.plan",
        _("Changes carried out against their plan"),
        CHANGES,
        _("Measure"),
        CHOICE,
        (Column("changes", _("Changes"), COUNT), Column("pct", _("Share"), PERCENT)),
        lambda: {key: str(label) for key, label in PLAN_MEASURES.items()},
    ),
    TableSpec(
        "backups.by_severity",
        _("Backup problems by severity"),
        BACKUPS,
        _("Severity"),
        CHOICE,
        (
            Column("problems", _("Problems"), COUNT),
            Column("solved", _("Solved"), COUNT),
            Column("not_solved", _("Not solved"), COUNT),
        ),
        _severities,
    ),
    TableSpec(
        "updates.by_software",
        _("Updated software versions"),
        UPDATES,
        _("Software and version"),
        TEXT,
        (Column("machines", _("Machines"), COUNT),),
    ),
    TableSpec(
        "deliveries.per_month",
        _("Deliveries per month"),
        DELIVERIES,
        _("Month"),
        MONTH_KEY,
        (
            Column("delivered", _("Delivered"), COUNT),
            Column("lead_days", _("Average lead time"), DAYS),
        ),
    ),
    TableSpec(
        "stock.by_supplier",
        _("Supplier deliveries"),
        STOCK,
        _("Supplier"),
        TEXT,
        (
            Column("due", _("Orders due"), COUNT),
            Column("reliability_pct", _("Complete on time"), PERCENT),
            Column("received", _("Orders received"), COUNT),
            Column("on_time_pct", _("Received on time"), PERCENT),
            Column("delivery_days", _("Average delivery time"), DAYS),
        ),
    ),
    TableSpec(
        "stock.by_location",
        _("Stock value per location"),
        STOCK,
        _("Location"),
        TEXT,
        (
            Column("value", _("Stock value"), MONEY),
            Column("obsolete", _("Obsolete stock value"), MONEY),
        ),
    ),
)

TABLES_BY_CODE: dict[str, TableSpec] = {table.code: table for table in TABLES}


def tables_of(process: str) -> list[TableSpec]:
    return [table for table in TABLES if table.process == process]
