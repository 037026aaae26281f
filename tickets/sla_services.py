"""The SLA state stored on tickets: computed by the pure engine (tickets/sla.py)
from the event log, refreshed by the ticket services, announced by the sweeper."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from events.services import events_record_many, history_of
from tickets import sla
from tickets.models import ACTIVE_STATUSES, SlaTarget, Ticket, TicketStatus
from tickets.sla_history import HistoryEvent, facts_from_history


@lru_cache(maxsize=64)
def _calendar(
    always_open: bool, opens_at: time, closes_at: time, weekdays: tuple[int, ...], holidays: bool
) -> sla.Calendar:
    if always_open:
        return sla.TWENTY_FOUR_SEVEN
    calendar = sla.business_hours(opens_at, closes_at, weekdays)
    return calendar if holidays else replace(calendar, holidays=frozenset())


def sla_targets_for(ticket: Ticket) -> sla.SlaTargets:
    """The targets in force: the ticket's contract at its current priority."""
    target = (
        SlaTarget.objects.select_related("calendar")
        .filter(contract_id=ticket.sla_contract_id, priority=ticket.priority)
        .first()
    )
    if target is None:
        return sla.SlaTargets(response=None, resolution=None, calendar=sla.TWENTY_FOUR_SEVEN)
    cal = target.calendar
    return sla.SlaTargets(
        response=_minutes(target.response_minutes),
        resolution=_minutes(target.resolution_minutes),
        calendar=_calendar(
            cal.always_open, cal.opens_at, cal.closes_at, tuple(cal.weekdays), cal.dutch_holidays
        ),
    )


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def ticket_history(ticket: Ticket) -> list[HistoryEvent]:
    return [
        HistoryEvent(
            at=e.created_at, kind=e.kind, from_state=e.from_state, to_state=e.to_state, data=e.data
        )
        for e in history_of(ticket).filter(
            kind__in=["ticket.transition", "ticket.message", "ticket.extension_approved"]
        )
    ]


def ticket_sla_state(
    ticket: Ticket, *, now: datetime, history: list[HistoryEvent] | None = None
) -> sla.SlaState:
    """The engine's state of `ticket` at `now`, from its event log (or from
    `history`, when the caller knows it: a ticket being created has none)."""
    facts = facts_from_history(
        created_at=ticket.created_at,
        targets=sla_targets_for(ticket),
        events=ticket_history(ticket) if history is None else history,
    )
    return sla.compute_sla(facts, now=now, warning_fraction=settings.SLA_WARNING_FRACTION)


SLA_FIELDS = [
    "response_due_at",
    "resolution_due_at",
    "response_warn_at",
    "resolution_warn_at",
    "response_breached",
    "resolution_breached",
    "response_business_seconds",
    "resolution_business_seconds",
]


def ticket_sla_refresh(*, ticket: Ticket, now: datetime) -> Ticket:
    """Store what the engine computes from the event log: the due times are a
    cache for the sweeper's indexes, never maintained by hand."""
    state = ticket_sla_state(ticket, now=now)
    ticket_sla_apply(ticket, state)
    Ticket.objects.filter(pk=ticket.pk).update(
        **{name: getattr(state, name) for name in SLA_FIELDS}
    )
    return ticket


def ticket_sla_apply(ticket: Ticket, state: sla.SlaState) -> None:
    """Set the engine's state on the instance (the caller saves it)."""
    for name in SLA_FIELDS:
        setattr(ticket, name, getattr(state, name))


# --- Sweepers -------------------------------------------------------------------

_ACTIVE_Q = Q(status__in=ACTIVE_STATUSES)
# (target, kind, moment field, claim marker, breach flag, extra condition);
# each filter matches a partial index in Ticket.Meta exactly.
SWEEPS = [
    (
        "response",
        "ticket.sla_breached",
        "response_due_at",
        "response_breach_recorded_at",
        "response_breached",
        Q(first_response_at__isnull=True),
    ),
    (
        "resolution",
        "ticket.sla_breached",
        "resolution_due_at",
        "resolution_breach_recorded_at",
        "resolution_breached",
        Q(),
    ),
    (
        "response",
        "ticket.sla_warning",
        "response_warn_at",
        "response_warned_at",
        None,
        Q(first_response_at__isnull=True),
    ),
    ("resolution", "ticket.sla_warning", "resolution_warn_at", "resolution_warned_at", None, Q()),
]


def sla_sweep(*, now: datetime, batch: int = 500, max_batches: int = 40) -> dict[str, int]:
    """Announce warnings and breaches that have come due, each exactly once.
    Per kind, batches of `batch` tickets are claimed by one conditional UPDATE
    of their marker and announced by one INSERT of events, in one transaction:
    the claim and its events exist together or not at all. Rows another
    sweeper holds are waited for (PostgreSQL) and the marker condition is
    checked again under the row lock, so a second worker or a second run
    announces nothing twice. At most `max_batches` batches per kind and run: the rest is
    for the next run."""
    counts: dict[str, int] = {}
    for target, kind, moment, marker, flag, extra in SWEEPS:
        done = 0
        due = Ticket.objects.filter(
            _ACTIVE_Q, extra, **{f"{moment}__lt": now, f"{marker}__isnull": True}
        ).order_by(moment)
        for _ in range(max_batches):
            if not due.exists():  # the idle case: one indexed read, no transaction
                break
            claimed = _sweep_batch(
                due=due, target=target, kind=kind, moment=moment, marker=marker, flag=flag,
                now=now, batch=batch,
            )  # fmt: skip
            done += claimed
            if claimed < batch:
                break
        counts[f"{target}_{kind.rsplit('_', 1)[-1]}"] = done
    return counts


@transaction.atomic
def _sweep_batch(
    *,
    due: QuerySet[Ticket],
    target: str,
    kind: str,
    moment: str,
    marker: str,
    flag: str | None,
    now: datetime,
    batch: int,
) -> int:
    # The oldest due first, through the kind's partial index; then locked in
    # id order whatever the kind, so two sweepers (each on its own kind) wait
    # for each other instead of deadlocking. A row another sweeper claimed
    # meanwhile no longer matches once its lock is released. (Ordering the
    # due rows by id in one query walks the primary key over every ticket.)
    candidates = list(due.values_list("id", flat=True)[:batch])
    ids = due.filter(id__in=candidates).order_by("id").values_list("id", flat=True)
    connection = transaction.get_connection()
    if connection.features.has_select_for_update:
        ids = ids.select_for_update()
    locked = list(ids)
    if not locked:
        return 0
    table = connection.ops.quote_name(Ticket._meta.db_table)
    column = connection.ops.quote_name
    sets = f"{column(marker)} = %s" + (f", {column(flag)} = %s" if flag else "")
    stamp = connection.ops.adapt_datetimefield_value(now)
    # Only column names of this model are interpolated. The ids come from their
    # own query (a subquery here could be rescanned and claim more than a batch).
    sql = (
        f"UPDATE {table} SET {sets} WHERE {column('id')} IN ({', '.join(['%s'] * len(locked))})"  # noqa: S608
        f" AND {column(marker)} IS NULL RETURNING {column('id')}, {column('number')},"
        f" {column(moment)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, *([True] if flag else []), *locked])
        claimed = cursor.fetchall()
    rows = [
        (pk, number or "", {"target": target, "at": _moment(at).isoformat()})
        for pk, number, at in claimed
    ]
    return events_record_many(model=Ticket, rows=rows, kind=kind, actor=None, now=now)


def _moment(value: Any) -> datetime:
    """RETURNING bypasses the ORM's converters: SQLite hands back a naive UTC
    time (or its text)."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sla_recompute(
    *, ticket: Ticket, now: datetime, store: bool = True
) -> dict[str, tuple[Any, Any]]:
    """Compare the stored SLA state with what the engine computes now; store
    the computed state. A breach the sweeper has not reached yet (due within
    the last sweep interval) is not a difference."""
    state = ticket_sla_state(ticket, now=now)
    differences: dict[str, tuple[Any, Any]] = {}
    for name in SLA_FIELDS:
        stored, computed = getattr(ticket, name), getattr(state, name)
        if stored == computed or _pending_sweep(ticket, state, name, now):
            continue
        differences[name] = (stored, computed)
    if store and differences:
        with transaction.atomic():
            ticket_sla_refresh(ticket=Ticket.objects.select_for_update().get(pk=ticket.pk), now=now)
    return differences


def _pending_sweep(ticket: Ticket, state: sla.SlaState, name: str, now: datetime) -> bool:
    if not name.endswith("_breached") or getattr(ticket, name):
        return False
    due = getattr(state, name.replace("_breached", "_due_at"))
    return due is not None and now - due < timedelta(minutes=2)


def contract_tickets_recompute(*, contract_id: int, now: datetime) -> int:
    """Recompute the open tickets of a contract whose targets or calendar changed."""
    changed = 0
    tickets = Ticket.objects.filter(sla_contract_id=contract_id).exclude(status=TicketStatus.CLOSED)
    for ticket in tickets.iterator(chunk_size=500):
        changed += bool(sla_recompute(ticket=ticket, now=now))
    return changed
