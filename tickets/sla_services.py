"""The SLA state stored on tickets: computed by the pure engine (tickets/sla.py)
from the event log, refreshed by the ticket services, announced by the sweeper."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from events.services import event_record, history_of
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


def ticket_sla_state(ticket: Ticket, *, now: datetime) -> sla.SlaState:
    facts = facts_from_history(
        created_at=ticket.created_at, targets=sla_targets_for(ticket), events=ticket_history(ticket)
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
    for name in SLA_FIELDS:
        setattr(ticket, name, getattr(state, name))
    Ticket.objects.filter(pk=ticket.pk).update(
        **{name: getattr(state, name) for name in SLA_FIELDS}
    )
    return ticket


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


def sla_sweep(*, now: datetime, batch: int = 500) -> dict[str, int]:
    """Announce warnings and breaches that have come due, each exactly once.
    A ticket is claimed by a conditional UPDATE of its marker: a second worker
    (or a second run) updates nothing and moves on."""
    counts: dict[str, int] = {}
    for target, kind, moment, marker, flag, extra in SWEEPS:
        due = (
            Ticket.objects.filter(
                _ACTIVE_Q, extra, **{f"{moment}__lt": now, f"{marker}__isnull": True}
            )
            .order_by(moment)
            .values_list("id", moment)[:batch]
        )
        done = 0
        for ticket_id, at in due:
            with transaction.atomic():
                changes: dict[str, Any] = {marker: now}
                if flag:
                    changes[flag] = True
                if not Ticket.objects.filter(pk=ticket_id, **{f"{marker}__isnull": True}).update(
                    **changes
                ):
                    continue
                ticket = Ticket.objects.get(pk=ticket_id)
                event_record(
                    obj=ticket,
                    kind=kind,
                    actor=None,
                    now=now,
                    data={"target": target, "at": at.isoformat()},
                )
                done += 1
        counts[f"{target}_{kind.rsplit('_', 1)[-1]}"] = done
    return counts


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
