"""Bulk tickets for `seed_bulk`: N tickets with their conversation and event log, made and
written one batch at a time.

The SLA columns are not invented: every ticket gets a plausible story (first response,
waiting periods, resolution, closing) written as events, the pure engine derives the facts
from exactly those events (tickets.sla_history) and computes the due, warning and breach
state from them (tickets.sla). So what is stored equals what `ticket_sla_state` and
`sla_recompute` compute later from the database, and the sweeper only finds what came due
in the last SWEEP_BACKLOG before `now`.

Ids are taken before the insert (servicedesk.bulk.ids_take), so each ticket is written once,
with its number; tickets, messages and events go in with COPY on PostgreSQL.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from accounts.models import Customer, User
from servicedesk.bulk import EventRow, content_type_id, events_insert, ids_take, objects_insert
from tickets import sla
from tickets.models import (
    Category,
    CauseCode,
    Channel,
    Department,
    Message,
    PriorityMatrix,
    Resolution,
    SlaContract,
    Ticket,
    TicketStatus,
    TicketType,
)
from tickets.sla_history import HistoryEvent, facts_from_history
from tickets.sla_services import SLA_FIELDS, sla_targets_for

# The sweeper runs every minute; pretend it last ran this long before `now`, so the first
# sweep after seeding has a realistic backlog to announce and history is left alone.
SWEEP_BACKLOG = timedelta(minutes=30)
SWEEP_CADENCE_SECONDS = 60
AUTO_CLOSE = timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)
# Closed tickets stop this long before `now`: younger ones are still being worked on.
CLOSED_UNTIL = timedelta(days=2)
UNCLOSED_SHARE = 0.10
# Linear growth of the ticket rate over the period: the newest day has (1 + GROWTH) times
# the tickets of the oldest.
GROWTH = 1.0
# Zipf exponent of tickets per customer: a few customers file a large share.
CUSTOMER_SKEW = 0.9
# The same for the departments (queues) tickets are assigned to.
DEPARTMENT_SKEW = 0.8

# Unclosed statuses: share, and mean / cap of the age in hours. New tickets are young (a
# first response follows within the hour), a waiting ticket can sit for weeks. Ten percent
# unclosed with mostly future due times means a recent backlog: the last days have more
# tickets than the historic rate, which is what a busy week looks like.
UNCLOSED_MIX: dict[str, tuple[float, float, float]] = {
    TicketStatus.NEW: (0.05, 2, 48),
    TicketStatus.OPEN: (0.40, 60, 24 * 20),
    TicketStatus.WAITING_ON_CUSTOMER: (0.25, 8 * 24, 24 * 60),
    TicketStatus.ESCALATED: (0.07, 5 * 24, 24 * 20),
    TicketStatus.RESOLVED: (0.23, 3 * 24, 24 * 20),
}
UNCLASSIFIED_SHARE: dict[str, float] = {TicketStatus.NEW: 0.65, TicketStatus.OPEN: 0.08}
ASSIGNED_SHARE: dict[str, float] = {TicketStatus.NEW: 0.3}
PRIORITY_WEIGHTS = {1: 10, 2: 45, 3: 45}
TYPE_WEIGHTS = {
    TicketType.INCIDENT: 70,
    TicketType.SERVICE_REQUEST: 15,
    TicketType.INFORMATION_REQUEST: 10,
    TicketType.CHANGE_REQUEST: 5,
}
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 35,
    Channel.PORTAL: 25,
    Channel.PHONE: 20,
    Channel.MONITORING: 14,
    Channel.STAFF: 4,
    Channel.API: 2,
}
RESOLUTION_WEIGHTS = {
    Resolution.SOLVED: 70,
    Resolution.WORKAROUND: 10,
    Resolution.QUICK_FIX: 10,
    Resolution.CHANGE_RAISED: 5,
    Resolution.NOT_SOLVABLE: 2,
    Resolution.PROBLEM: 3,
}
SUBJECTS: dict[str, list[str]] = {
    Category.HARDWARE: [
        "Disk failure on {host}",
        "{host} does not boot after power cut",
        "RAID degraded on {host}",
        "Memory errors reported by {host}",
    ],
    Category.SOFTWARE: [
        "Website shows error 500",
        "Mail delivery delayed",
        "Database on {host} is slow",
        "Backup job failed on {host}",
        "Certificate expired on shop",
    ],
    Category.NETWORK: [
        "VPN drops every few minutes",
        "{host} unreachable",
        "Packet loss towards the datacentre",
        "DNS does not resolve our domain",
    ],
    Category.SECURITY: [
        "Suspicious logins on {host}",
        "Phishing mail received by staff",
        "Firewall blocks office traffic",
    ],
    Category.SERVICE_REQUEST: [
        "New mailbox for a colleague",
        "Extra disk space on {host}",
        "Add a DNS record",
        "Restore a file from last night",
    ],
    Category.OTHER: ["Question about our invoice", "Planned maintenance window", "Other"],
}
CATEGORY_WEIGHTS = {
    Category.SOFTWARE: 35,
    Category.NETWORK: 20,
    Category.HARDWARE: 15,
    Category.SERVICE_REQUEST: 15,
    Category.SECURITY: 5,
    Category.OTHER: 10,
}


@dataclass
class Step:
    """One event of a ticket's story, with who did it."""

    event: HistoryEvent
    actor: User | None = None
    actor_label: str = "system"
    reason: str = ""
    message: Message | None = None  # the message a ticket.message event points at


@dataclass
class Story:
    ticket: Ticket
    messages: list[Message] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def _choices(weights: Mapping[Any, float]) -> tuple[list[Any], list[float]]:
    return list(weights), list(accumulate(weights.values()))


class Generator:
    """Makes ticket stories. Everything random comes from one seeded Random, so a run with
    the same --seed and --now gives the same data."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: datetime,
        customers: Sequence[Customer],
        engineers: Sequence[User],
        targets: dict[tuple[int | None, int], sla.SlaTargets],
        cells: dict[int, list[tuple[str, str]]],
        unclassified_priority: int,
        cause_codes: Sequence[CauseCode],
        departments: Sequence[Department],
    ) -> None:
        self.rng, self.now = rng, now
        self.customers, self.engineers = customers, engineers
        self.targets, self.cells = targets, cells
        self.unclassified_priority = unclassified_priority
        self.cause_codes, self.departments = cause_codes, departments
        # Every engineer works in one department (queue): a ticket goes to a queue, then
        # to one of its engineers. Queues differ in size (the service desk is the busiest).
        self.queues = list(range(len(departments)))
        self.teams = [list(engineers[queue :: len(departments)]) for queue in self.queues]
        self.department_cum = list(
            accumulate(1 / (queue + 1) ** DEPARTMENT_SKEW for queue in self.queues)
        )
        self.warning_fraction = settings.SLA_WARNING_FRACTION
        self.contract_codes: dict[int | None, str] = {
            c.pk: c.code for c in SlaContract.objects.all()
        }
        ranks = list(range(1, len(customers) + 1))
        # Shuffled, so the busiest customers are not simply the lowest numbers.
        rng.shuffle(ranks)
        self.customer_cum = list(accumulate(1 / rank**CUSTOMER_SKEW for rank in ranks))
        self.priorities = _choices(PRIORITY_WEIGHTS)
        self.types = _choices(TYPE_WEIGHTS)
        self.channels = _choices(CHANNEL_WEIGHTS)
        self.categories = _choices(CATEGORY_WEIGHTS)
        self.resolutions = _choices(RESOLUTION_WEIGHTS)
        self.unclosed = _choices({status: mix[0] for status, mix in UNCLOSED_MIX.items()})

    def pick(self, table: tuple[list[Any], list[float]]) -> Any:
        return self.rng.choices(table[0], cum_weights=table[1])[0]

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def fraction(self, on_time: float) -> float:
        """Share of a target used: mostly within it, sometimes well over."""
        if self.rng.random() < on_time:
            return self.rng.uniform(0.05, 0.95)
        return self.rng.uniform(1.05, 2.5)

    # --- the ticket row -----------------------------------------------------------------

    def ticket(self, created_at: datetime, status: str) -> Ticket:
        rng = self.rng
        customer = rng.choices(self.customers, cum_weights=self.customer_cum)[0]
        channel = self.pick(self.channels)
        type_ = TicketType.INCIDENT if channel == Channel.MONITORING else self.pick(self.types)
        category = (
            Category.SERVICE_REQUEST
            if type_ == TicketType.SERVICE_REQUEST
            else self.pick(self.categories)
        )
        classified = rng.random() >= UNCLASSIFIED_SHARE.get(status, 0.0)
        if classified:
            priority = self.pick(self.priorities)
            impact, urgency = rng.choice(self.cells[priority])
        else:
            # What ticket_create does without a classification: medium x medium.
            priority, impact, urgency = self.unclassified_priority, "medium", "medium"
        department, assignee = None, None
        if rng.random() < ASSIGNED_SHARE.get(status, 0.97):
            queue = rng.choices(self.queues, cum_weights=self.department_cum)[0]
            department, assignee = self.departments[queue], rng.choice(self.teams[queue])
        subject = rng.choice(SUBJECTS[category]).format(host=f"srv-{rng.randrange(1, 400):03d}")
        return Ticket(
            customer=customer,
            subject=subject,
            type=type_,
            channel=channel,
            category=category,
            impact=impact,
            urgency=urgency,
            priority=priority,
            requested_priority=rng.choice((1, 2, 3)) if not classified else None,
            classified=classified,
            is_managed=customer.is_managed,
            assignee=assignee,
            department=department,
            status=status,
            created_at=created_at,
            updated_at=created_at,
            sla_contract_id=customer.sla_contract_id,
        )

    # --- stories -------------------------------------------------------------------------

    def story(self, created_at: datetime, status: str) -> Story:
        ticket = self.ticket(created_at, status)
        story = Story(ticket=ticket)
        story.messages.append(self._first_message(ticket))
        targets = self.targets.get(
            (ticket.sla_contract_id, ticket.priority),
            sla.SlaTargets(None, None, sla.TWENTY_FOUR_SEVEN),
        )
        active_until: datetime | None
        if status == TicketStatus.CLOSED:
            active_until = self._closed(story, targets)
        else:
            active_until = self._unclosed(story, targets)
        self._apply_sla(story, targets, active_until)
        return story

    def _first_message(self, ticket: Ticket) -> Message:
        customer = ticket.customer
        from_customer = customer is not None and ticket.channel in (Channel.EMAIL, Channel.PORTAL)
        if from_customer and customer is not None:
            label = customer.email or customer.name
        else:
            label = ticket.assignee.username if ticket.assignee else "system"
        return Message(
            author=None if from_customer else ticket.assignee,
            author_label=label,
            from_customer=from_customer,
            public=True,
            body=f"{ticket.subject}.\n\nPlease have a look as soon as possible.",
            created_at=ticket.created_at,
        )

    def _responder(self, ticket: Ticket) -> User:
        return ticket.assignee or self.rng.choice(self.engineers)

    def _respond(self, story: Story, at: datetime) -> None:
        """The first public staff reply: a message, and NEW becomes OPEN (as in
        ticket_message_add)."""
        ticket = story.ticket
        engineer = self._responder(ticket)
        reply = Message(
            author=engineer,
            author_label=engineer.username,
            public=True,
            body="Thank you, we are looking into it.",
            created_at=at,
        )
        story.messages.append(reply)
        ticket.first_response_at = at
        data = {"public": True, "from_customer": False, "first_response": True}
        story.steps.append(
            Step(
                HistoryEvent(at, "ticket.message", data=data),
                engineer,
                engineer.username,
                message=reply,
            )
        )
        self._transition(story, at, TicketStatus.NEW, TicketStatus.OPEN, "first response")

    def _transition(
        self,
        story: Story,
        at: datetime,
        from_state: str,
        to_state: str,
        reason: str,
        *,
        system: bool = False,
    ) -> None:
        ticket = story.ticket
        data: dict[str, Any] = {"resolution": "", "cause_code": ""}
        if to_state == TicketStatus.RESOLVED:
            data = {
                "resolution": ticket.resolution,
                "cause_code": ticket.cause_code.code if ticket.cause_code else "",
            }
        actor = None if system else self._responder(ticket)
        story.steps.append(
            Step(
                HistoryEvent(at, "ticket.transition", from_state, to_state, data),
                actor,
                actor.username if actor else "system",
                reason,
            )
        )

    def _resolve(self, story: Story, at: datetime) -> None:
        ticket = story.ticket
        ticket.resolved_at = at
        ticket.resolution = self.pick(self.resolutions)
        if ticket.type == TicketType.INCIDENT or self.rng.random() < 0.5:
            ticket.cause_code = self.rng.choice(self.cause_codes)
        ticket.resolution_note = "Fixed and verified with the customer."
        self._message(story, at, "We have fixed it. Please let us know if it works for you.")
        self._transition(story, at, TicketStatus.OPEN, TicketStatus.RESOLVED, "")

    def _message(
        self, story: Story, at: datetime, body: str, *, from_customer: bool = False
    ) -> None:
        """A public reply after the first response (from the assignee, or the customer's
        answer by mail), with its ticket.message event. It meets no target: only the first
        response and the transitions move the SLA clock."""
        ticket = story.ticket
        author = None if from_customer else self._responder(ticket)
        if author is not None:
            label = author.username
        else:
            label = ticket.customer.email if ticket.customer else "system"
        message = Message(
            author=author,
            author_label=label,
            from_customer=from_customer,
            public=True,
            body=body,
            created_at=at,
        )
        story.messages.append(message)
        data = {"public": True, "from_customer": from_customer, "first_response": False}
        event = HistoryEvent(at, "ticket.message", data=data)
        story.steps.append(Step(event, author, label, message=message))

    def _closed(self, story: Story, targets: sla.SlaTargets) -> datetime:
        """new -> open (first response) [-> waiting -> open] -> resolved -> closed, with
        the response and resolution times drawn as business time against the targets."""
        rng, calendar = self.rng, targets.calendar
        t0 = story.ticket.created_at
        response = targets.response or timedelta(hours=1)
        resolution = targets.resolution or timedelta(hours=16)
        responded = sla.add_business_time(calendar, t0, response * self.fraction(0.9))
        assert responded is not None  # no pauses given: the clock always reaches it
        pause: tuple[datetime, datetime] | None = None
        if rng.random() < 0.15:
            asked = responded + self.minutes(10, 360)
            pause = (asked, asked + self.minutes(120, 4 * 24 * 60))
        pauses = (sla.Pause(*pause),) if pause else ()
        resolved = sla.add_business_time(calendar, t0, resolution * self.fraction(0.85), pauses)
        assert resolved is not None
        resolved = max(resolved, (pause[1] if pause else responded) + self.minutes(5, 180))
        if rng.random() < 0.6:  # no answer: resolved_tickets_close closes it
            closed, by_system = resolved + AUTO_CLOSE + self.minutes(0, 60), True
        else:
            closed, by_system = resolved + self.minutes(10, 3 * 24 * 60), False
        # The youngest closed tickets could end in the future: squeeze the story into the
        # time there was, keeping its order.
        limit = self.now - timedelta(minutes=5)
        if closed > limit:
            scale = (limit - t0) / (closed - t0)

            def squeeze(moment: datetime) -> datetime:
                return t0 + (moment - t0) * scale

            responded, resolved, closed = squeeze(responded), squeeze(resolved), squeeze(closed)
            pause = (squeeze(pause[0]), squeeze(pause[1])) if pause else None
        self._respond(story, responded)
        if pause:
            self._waiting(story, pause[0], pause[1])
        self._resolve(story, resolved)
        story.ticket.closed_at = closed
        reason = "no answer from the customer within the confirmation period" if by_system else ""
        self._transition(
            story, closed, TicketStatus.RESOLVED, TicketStatus.CLOSED, reason, system=by_system
        )
        return resolved

    def _waiting(self, story: Story, asked: datetime, answered: datetime | None) -> None:
        """A question to the customer puts the ticket on waiting; the answer resumes it."""
        self._message(story, asked, "Could you tell us when this started?")
        self._transition(
            story, asked, TicketStatus.OPEN, TicketStatus.WAITING_ON_CUSTOMER, "asked for details"
        )
        if answered is not None:
            self._message(story, answered, "It started yesterday evening.", from_customer=True)
            self._transition(
                story,
                answered,
                TicketStatus.WAITING_ON_CUSTOMER,
                TicketStatus.OPEN,
                "customer replied",
            )

    def _unclosed(self, story: Story, targets: sla.SlaTargets) -> datetime | None:
        """The story up to `now`; returns when the clock stopped for good (None: it runs)."""
        ticket, now = story.ticket, self.now
        t0 = ticket.created_at
        status = ticket.status
        if status == TicketStatus.NEW:
            return None
        response = targets.response or timedelta(hours=1)
        responded = sla.add_business_time(targets.calendar, t0, response * self.fraction(0.9))
        if responded is None or responded >= now - timedelta(minutes=1):
            responded = t0 + (now - t0) * self.rng.uniform(0.1, 0.5)
        self._respond(story, responded)
        if status == TicketStatus.OPEN:
            if self.rng.random() < 0.1:  # waited on the customer once, answered since
                asked = self.between(responded, now)
                self._waiting(story, asked, self.between(asked, now))
            return None
        if status == TicketStatus.ESCALATED:
            ticket.escalated = True
            self._transition(
                story, self.between(responded, now), TicketStatus.OPEN, status, "escalated"
            )
            return None
        if status == TicketStatus.WAITING_ON_CUSTOMER:
            asked = self.between(responded, now)
            self._waiting(story, asked, None)
            return asked
        # Resolved, mostly within the confirmation period (else the close task takes it).
        resolved = max(
            self.between(responded, now), now - AUTO_CLOSE + timedelta(hours=self.rng.random())
        )
        self._resolve(story, min(resolved, now - timedelta(minutes=1)))
        return ticket.resolved_at

    # --- SLA -----------------------------------------------------------------------------

    def _apply_sla(
        self, story: Story, targets: sla.SlaTargets, active_until: datetime | None
    ) -> None:
        """Store what the engine computes from the story's own events, and the sweeper's
        markers (with its events) for every moment it would already have announced."""
        ticket = story.ticket
        facts = facts_from_history(
            created_at=ticket.created_at,
            targets=targets,
            events=[step.event for step in story.steps],
        )
        state = sla.compute_sla(facts, now=self.now, warning_fraction=self.warning_fraction)
        for name in SLA_FIELDS:
            setattr(ticket, name, getattr(state, name))
        if story.steps:
            ticket.updated_at = max(step.event.at for step in story.steps)
        swept_until = self.now - SWEEP_BACKLOG
        response_until = min(
            (m for m in (ticket.first_response_at, active_until) if m is not None),
            default=None,
        )
        # (target, event kind, moment, claim marker) as in services.SWEEPS.
        for target, kind, moment, marker in (
            ("response", "ticket.sla_warning", "response_warn_at", "response_warned_at"),
            ("response", "ticket.sla_breached", "response_due_at", "response_breach_recorded_at"),
            ("resolution", "ticket.sla_warning", "resolution_warn_at", "resolution_warned_at"),
            (
                "resolution",
                "ticket.sla_breached",
                "resolution_due_at",
                "resolution_breach_recorded_at",
            ),
        ):
            at = getattr(ticket, moment)
            if at is None:
                continue
            until = response_until if target == "response" else active_until
            fired = at + timedelta(seconds=self.rng.uniform(1, SWEEP_CADENCE_SECONDS))
            # The sweeper announced it if it ran while the clock still ran; what came due
            # in the last SWEEP_BACKLOG is left for the next sweep.
            if fired >= swept_until or (until is not None and fired >= until):
                continue
            setattr(ticket, marker, fired)
            if kind == "ticket.sla_breached":
                setattr(ticket, f"{target}_breached", True)
            story.steps.append(
                Step(HistoryEvent(fired, kind, data={"target": target, "at": at.isoformat()}))
            )
        story.steps.sort(key=lambda step: step.event.at)


# --- Writing ---------------------------------------------------------------------------


@dataclass
class TicketsDone:
    """What seed_tickets wrote, and where its time went (seconds)."""

    tickets: int = 0
    messages: int = 0
    events: int = 0
    closed: int = 0
    unclosed: int = 0
    first_id: int | None = None
    generating: float = 0.0
    writing: float = 0.0


def seed_tickets(
    *,
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    departments: Sequence[Department],
    now: datetime,
    count: int,
    years: float,
    batch: int,
    progress: Callable[[TicketsDone], None] | None = None,
) -> TicketsDone:
    """`count` tickets over the last `years` with messages and events, after the current
    highest id, `batch` at a time; the closed ones first, oldest first, so ids follow time."""
    done = TicketsDone(unclosed=round(count * UNCLOSED_SHARE))
    done.closed = count - done.unclosed
    if count == 0:
        return done
    generator = Generator(
        rng=rng,
        now=now,
        customers=customers,
        engineers=engineers,
        targets=_targets(),
        cells=_cells(),
        unclassified_priority=PriorityMatrix.objects.get(
            impact="medium", urgency="medium"
        ).priority,
        cause_codes=list(CauseCode.objects.filter(active=True)),
        departments=departments,
    )
    for moments in _closed_moments(rng, now, years, done.closed, batch):
        _write(generator, [(moment, TicketStatus.CLOSED) for moment in moments], done)
        if progress:
            progress(done)
    for chunk in _chunks(_unclosed_moments(generator, done.unclosed), batch):
        _write(generator, chunk, done)
        if progress:
            progress(done)
    return done


def _targets() -> dict[tuple[int | None, int], sla.SlaTargets]:
    """Per (contract, priority) the targets exactly as sla_targets_for builds them, so
    the stored state cannot drift from what the services compute."""
    return {
        (contract.pk, priority): sla_targets_for(
            Ticket(sla_contract_id=contract.pk, priority=priority)
        )
        for contract in SlaContract.objects.all()
        for priority in PRIORITY_WEIGHTS
    }


def _cells() -> dict[int, list[tuple[str, str]]]:
    cells: dict[int, list[tuple[str, str]]] = {p: [] for p in PRIORITY_WEIGHTS}
    for cell in PriorityMatrix.objects.all():
        cells.setdefault(cell.priority, []).append((cell.impact, cell.urgency))
    missing = [p for p, found in cells.items() if not found]
    if missing:
        raise CommandError(f"The priority matrix has no cell for priority {missing}")
    return cells


def _closed_moments(
    rng: random.Random, now: datetime, years: float, count: int, batch: int
) -> Iterator[list[datetime]]:
    """Creation times of closed tickets in ascending order, one list per batch, so ids
    follow time. Each batch covers its own stratum of the distribution (inverse CDF
    of a linearly growing rate), so nothing but the batch is held in memory."""
    end = (now - CLOSED_UNTIL).timestamp()
    start = end - years * 365.25 * 86400
    for first in range(0, count, batch):
        size = min(batch, count - first)
        low, high = first / count, (first + size) / count
        moments = []
        for _ in range(size):
            for _attempt in range(4):
                u = rng.uniform(low, high)
                x = (-1 + math.sqrt(1 + 2 * GROWTH * u * (1 + GROWTH / 2))) / GROWTH
                moment = datetime.fromtimestamp(start + x * (end - start), UTC)
                if _office_hours(moment) or rng.random() < 0.25:
                    break  # most tickets come in during office hours
            moments.append(moment)
        moments.sort()
        yield moments


def _unclosed_moments(generator: Generator, count: int) -> list[tuple[datetime, str]]:
    """Creation time and status of the unclosed tickets, oldest first. Only two values
    per ticket are held (the rows are made per batch)."""
    rng, now = generator.rng, generator.now
    seeds = []
    for _ in range(count):
        status = generator.pick(generator.unclosed)
        _share, mean, cap = UNCLOSED_MIX[status]
        age = min(rng.expovariate(1 / mean), cap) + rng.uniform(0.05, 0.5)
        seeds.append((now - timedelta(hours=age), status))
    seeds.sort()
    return seeds


def _write(generator: Generator, batch: Sequence[tuple[datetime, str]], done: TicketsDone) -> None:
    started = time.monotonic()
    stories = [generator.story(moment, status) for moment, status in batch]
    generated = time.monotonic()
    tickets = [story.ticket for story in stories]
    for ticket, pk in zip(tickets, ids_take(Ticket, len(tickets)), strict=True):
        ticket.pk, ticket.number = pk, f"T-{pk:06d}"
    messages = []
    for story in stories:
        for message in story.messages:
            message.ticket = story.ticket
            messages.append(message)
    for message, pk in zip(messages, ids_take(Message, len(messages)), strict=True):
        message.pk = pk
    objects_insert(Ticket, tickets)
    objects_insert(Message, messages)
    done.events += events_insert(_event_rows(generator, stories))
    done.first_id = done.first_id or tickets[0].pk
    done.tickets += len(tickets)
    done.messages += len(messages)
    done.generating += generated - started
    done.writing += time.monotonic() - generated


def _event_rows(generator: Generator, stories: Sequence[Story]) -> list[EventRow]:
    ticket_type = content_type_id(Ticket)
    rows: list[EventRow] = []
    for story in stories:
        ticket = story.ticket
        number = ticket.number or ""
        created = {
            "priority": ticket.priority,
            "channel": ticket.channel,
            "contract": generator.contract_codes.get(ticket.sla_contract_id, ""),
        }
        rows.append(
            EventRow(
                created_at=ticket.created_at,
                actor_id=None,
                actor_label="system",
                content_type_id=ticket_type,
                object_id=ticket.pk,
                object_ref=number,
                kind="ticket.created",
                from_state="",
                to_state=TicketStatus.NEW,
                reason="",
                data=created,
                processed_at=ticket.created_at,
            )
        )
        for step in story.steps:
            event, data = step.event, step.event.data
            if step.message is not None:
                data = {**data, "message": step.message.pk}
            rows.append(
                EventRow(
                    created_at=event.at,
                    actor_id=step.actor.pk if step.actor else None,
                    actor_label=step.actor_label,
                    content_type_id=ticket_type,
                    object_id=ticket.pk,
                    object_ref=number,
                    kind=event.kind,
                    from_state=event.from_state,
                    to_state=event.to_state,
                    reason=step.reason,
                    data=data,
                    processed_at=event.at,
                )
            )
    return rows


def _office_hours(moment: datetime) -> bool:
    local = moment.astimezone(sla.AMSTERDAM)
    return local.weekday() < 5 and 8 <= local.hour < 18


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
