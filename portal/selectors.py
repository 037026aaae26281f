"""Reads for the customer portal: always through the ticket selectors, so a
customer only ever reaches their own company's tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tickets.models import ACTIVE_STATUSES, SlaTarget, Ticket, TicketStatus
from tickets.selectors import tickets_visible_to
from tickets.sla_services import sla_targets_for

# The list filter: the company's open work (resolved tickets still wait for
# the customer's confirmation), what is closed, or everything.
OPEN, CLOSED, ALL = "open", "closed", "all"


def portal_tickets(*, user: Any, state: str = OPEN) -> QuerySet[Ticket]:
    """The company's tickets, newest first. One query with its joins: the
    list never touches a relation per row."""
    qs = tickets_visible_to(user)
    if state == OPEN:
        qs = qs.exclude(status=TicketStatus.CLOSED)
    elif state == CLOSED:
        qs = qs.filter(status=TicketStatus.CLOSED)
    return qs.order_by("-created_at", "-id")


@dataclass(frozen=True)
class SlaClock:
    """One target (response or resolution) as the customer sees it."""

    kind: str
    target_hours: float | None
    due_at: datetime | None
    # met | breached | running | paused | none
    state: str
    done_at: datetime | None
    # Still counting towards (or past) its due time: only then a live clock.
    live: bool
    # Server-rendered remaining time; sla-clock.js keeps it current.
    remaining: str


@dataclass(frozen=True)
class PortalSla:
    contract: str
    priority: int
    calendar: str
    always_open: bool
    response: SlaClock
    resolution: SlaClock

    @property
    def clocks(self) -> tuple[SlaClock, SlaClock]:
        return (self.response, self.resolution)


def duration_text(delta: timedelta) -> str:
    """A rounded-down duration in the words sla-clock.js uses, so the text
    does not jump when the script takes over."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


def remaining_text(due: datetime, now: datetime) -> str:
    if due >= now:
        return _("%(time)s left") % {"time": duration_text(due - now)}
    return _("%(time)s overdue") % {"time": duration_text(now - due)}


def _clock(
    *,
    kind: str,
    ticket: Ticket,
    target: timedelta | None,
    due: datetime | None,
    done: datetime | None,
    breached: bool,
    now: datetime,
) -> SlaClock:
    hours = None if target is None else target.total_seconds() / 3600
    if target is None:
        state = "none"
    elif done is not None:
        state = "breached" if breached else "met"
    elif due is None:
        # The engine gives no due time while the clock stands still.
        state = "paused" if ticket.status not in ACTIVE_STATUSES else "none"
    elif breached or due < now:
        state = "breached"
    elif ticket.status not in ACTIVE_STATUSES:
        state = "paused"
    else:
        state = "running"
    live = due is not None and done is None and ticket.status in ACTIVE_STATUSES
    return SlaClock(
        kind=kind,
        target_hours=hours,
        due_at=due,
        state=state,
        done_at=done,
        live=live,
        remaining=remaining_text(due, now) if live and due is not None else "",
    )


def portal_sla(*, ticket: Ticket, now: datetime) -> PortalSla | None:
    """The contract's targets for the ticket's priority, the stored due times
    and how each target stands; None when the ticket has no SLA contract."""
    if ticket.sla_contract_id is None:
        return None
    targets = sla_targets_for(ticket)
    row = (
        SlaTarget.objects.select_related("contract", "calendar")
        .filter(contract_id=ticket.sla_contract_id, priority=ticket.priority)
        .first()
    )
    if row is None:
        return None
    return PortalSla(
        contract=row.contract.name,
        priority=ticket.priority,
        calendar=row.calendar.name,
        always_open=targets.calendar.always_open,
        response=_clock(
            kind="response",
            ticket=ticket,
            target=targets.response,
            due=ticket.response_due_at,
            done=ticket.first_response_at,
            breached=ticket.response_breached,
            now=now,
        ),
        resolution=_clock(
            kind="resolution",
            ticket=ticket,
            target=targets.resolution,
            due=ticket.resolution_due_at,
            done=ticket.resolved_at,
            breached=ticket.resolution_breached,
            now=now,
        ),
    )
