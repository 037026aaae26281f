"""Bulk data for performance measurement: customers, engineers and N tickets with their
conversation and event log, made and written one batch at a time (bulk_create; the event
log with COPY on PostgreSQL).

The SLA columns are not invented: every ticket gets a plausible story (first response,
waiting periods, resolution, closing) written as events, the pure engine derives the facts
from exactly those events (tickets.sla_history) and computes the due, warning and breach
state from them (tickets.sla). So what is stored equals what `ticket_sla_state` and
`sla_recompute` compute later from the database, and the sweeper only finds what came due
in the last SWEEP_BACKLOG before `--now`.

Usage: manage.py seed_bulk --tickets 100000 [--customers 5000] [--years 2] [--seed 1]
       [--batch 5000] [--now 2026-05-01T12:00:00+02:00]
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Customer, Grade, User
from accounts.roles import Role, roles_sync
from events.models import Event
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
from tickets.seed import seed_reference_data
from tickets.sla_history import HistoryEvent, facts_from_history
from tickets.sla_services import SLA_FIELDS, sla_targets_for

FIRST_CUSTOMER_NUMBER = 100000  # far above the demo customers (1000, 2000, ...)
ENGINEERS = 20
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
COMPANY_WORDS = [
    "Noord",
    "Delta",
    "Polder",
    "Haven",
    "Rijn",
    "Duin",
    "Molen",
    "Kade",
    "Brug",
    "Veen",
    "Zuid",
    "Oost",
    "Linde",
    "Eik",
    "Tulp",
]
COMPANY_KINDS = ["Logistiek", "Zorg", "Bouw", "Media", "Advies", "Techniek", "Handel", "Groep"]
FIRST_NAMES = ["Anouk", "Bram", "Daan", "Eva", "Femke", "Joris", "Lotte", "Milan", "Noor", "Ruben"]
LAST_NAMES = ["Bakker", "de Vries", "Jansen", "Visser", "Smit", "Meijer", "Mulder", "Bos"]
GRADES = [Grade.JUNIOR, Grade.MEDIOR, Grade.MEDIOR, Grade.SENIOR]


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
        assigned = rng.random() < ASSIGNED_SHARE.get(status, 0.97)
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
            assignee=rng.choice(self.engineers) if assigned else None,
            department=rng.choice(self.departments) if assigned else None,
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
        self._transition(story, at, TicketStatus.OPEN, TicketStatus.RESOLVED, "")

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
        self._transition(
            story, asked, TicketStatus.OPEN, TicketStatus.WAITING_ON_CUSTOMER, "asked for details"
        )
        if answered is not None:
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


class Command(BaseCommand):
    help = "Fill the database with bulk tickets, messages and events for performance tests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, required=True, help="tickets to add")
        parser.add_argument("--customers", type=int, default=5000, help="bulk customers")
        parser.add_argument("--years", type=float, default=2, help="period the tickets span")
        parser.add_argument("--seed", type=int, default=1, help="random seed")
        parser.add_argument("--batch", type=int, default=5000, help="tickets per bulk insert")
        parser.add_argument(
            "--now", help="ISO datetime the data is generated for (default: the current time)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, batch = options["tickets"], options["batch"]
        if count < 0 or batch < 1 or options["customers"] < 1 or options["years"] <= 0:
            raise CommandError("--tickets >= 0, --batch >= 1, --customers >= 1, --years > 0")
        if connection.vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"seed_bulk supports PostgreSQL and SQLite, not {connection.vendor}")
        now = self._now(options["now"])
        rng = random.Random(options["seed"])
        started = time.monotonic()

        seed_reference_data()
        customers = self._customers(rng, options["customers"])
        engineers = self._engineers(rng)
        generator = Generator(
            rng=rng,
            now=now,
            customers=customers,
            engineers=engineers,
            targets=self._targets(),
            cells=self._cells(),
            unclassified_priority=PriorityMatrix.objects.get(
                impact="medium", urgency="medium"
            ).priority,
            cause_codes=list(CauseCode.objects.filter(active=True)),
            departments=list(Department.objects.all()),
        )
        self.stdout.write(
            f"{len(customers)} bulk customers, {len(engineers)} engineers "
            f"({time.monotonic() - started:.1f}s)"
        )
        first_id = (Ticket.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        unclosed = round(count * UNCLOSED_SHARE)
        closed = count - unclosed
        # One transaction: an interrupted run leaves no tickets without a number.
        with transaction.atomic():
            done = 0
            for moments in self._closed_moments(rng, now, options["years"], closed, batch):
                done += self._write(generator, [(m, TicketStatus.CLOSED) for m in moments])
                self._progress(done, count, started)
            for chunk in _chunks(self._unclosed_moments(generator, unclosed), batch):
                done += self._write(generator, chunk)
                self._progress(done, count, started)
            numbered = self._number()
        self.stdout.write(
            f"Done: {count} tickets (ids from {first_id}), {numbered} numbered, "
            f"{closed} closed / {unclosed} unclosed, now={now.isoformat()}, "
            f"in {time.monotonic() - started:.1f}s"
        )

    # --- set-up ------------------------------------------------------------------------

    def _now(self, value: str | None) -> datetime:
        if not value:
            return timezone.now()
        parsed = parse_datetime(value)
        if parsed is None:
            raise CommandError(f"--now {value!r} is not an ISO datetime")
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed.astimezone(UTC)

    def _customers(self, rng: random.Random, count: int) -> list[Customer]:
        contracts = {
            c.code: c for c in SlaContract.objects.filter(code__in=["managed", "standard"])
        }
        numbers = [str(FIRST_CUSTOMER_NUMBER + i) for i in range(count)]
        rows = []
        for number in numbers:
            managed = rng.random() < 0.1
            name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} "
            rows.append(
                Customer(
                    number=number,
                    name=f"{name}{rng.choice(COMPANY_KINDS)} B.V.",
                    email=f"it@c{number}.example",
                    is_managed=managed,
                    sla_contract=contracts["managed" if managed else "standard"],
                )
            )
        # Existing bulk customers (an earlier run) are kept as they are.
        Customer.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        found: list[Customer] = []
        for start in range(0, len(numbers), 2000):
            found += Customer.objects.filter(number__in=numbers[start : start + 2000])
        return sorted(found, key=lambda c: int(c.number))

    def _engineers(self, rng: random.Random) -> list[User]:
        rows = [
            User(
                username=f"bulk-eng-{i:02d}",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=f"bulk-eng-{i:02d}@example.test",
                is_staff=True,
                grade=GRADES[i % len(GRADES)],
                password=make_password(None),  # unusable: nobody logs in as these
            )
            for i in range(1, ENGINEERS + 1)
        ]
        User.objects.bulk_create(rows, ignore_conflicts=True)
        engineers = list(User.objects.filter(username__startswith="bulk-eng-").order_by("id"))
        roles_sync()
        group = Group.objects.get(name=Role.ENGINEER)
        membership = User.groups.through
        membership.objects.bulk_create(
            [membership(user_id=user.pk, group_id=group.pk) for user in engineers],
            ignore_conflicts=True,
        )
        return engineers

    def _targets(self) -> dict[tuple[int | None, int], sla.SlaTargets]:
        """Per (contract, priority) the targets exactly as sla_targets_for builds them, so
        the stored state cannot drift from what the services compute."""
        return {
            (contract.pk, priority): sla_targets_for(
                Ticket(sla_contract_id=contract.pk, priority=priority)
            )
            for contract in SlaContract.objects.all()
            for priority in PRIORITY_WEIGHTS
        }

    def _cells(self) -> dict[int, list[tuple[str, str]]]:
        cells: dict[int, list[tuple[str, str]]] = {p: [] for p in PRIORITY_WEIGHTS}
        for cell in PriorityMatrix.objects.all():
            cells.setdefault(cell.priority, []).append((cell.impact, cell.urgency))
        missing = [p for p, found in cells.items() if not found]
        if missing:
            raise CommandError(f"The priority matrix has no cell for priority {missing}")
        return cells

    # --- creation times ----------------------------------------------------------------

    def _closed_moments(
        self, rng: random.Random, now: datetime, years: float, count: int, batch: int
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

    def _unclosed_moments(self, generator: Generator, count: int) -> list[tuple[datetime, str]]:
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

    # --- writing -------------------------------------------------------------------------

    def _write(self, generator: Generator, batch: Sequence[tuple[datetime, str]]) -> int:
        stories = [generator.story(moment, status) for moment, status in batch]
        Ticket.objects.bulk_create([story.ticket for story in stories])
        messages = []
        for story in stories:
            for message in story.messages:
                message.ticket = story.ticket
                messages.append(message)
        Message.objects.bulk_create(messages)
        ticket_type = ContentType.objects.get_for_model(Ticket).pk
        rows: list[EventRow] = []
        for story in stories:
            ticket = story.ticket
            number = f"T-{ticket.pk:06d}"
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
        _events_insert(rows)
        return len(stories)

    def _number(self) -> int:
        """T- plus the id, zero-padded to at least six digits, in one statement."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # lpad() truncates longer strings, so pad to the id's own length past 999999.
                cursor.execute(
                    "UPDATE tickets_ticket SET number = 'T-' || "
                    "lpad(id::text, greatest(6, length(id::text)), '0') WHERE number IS NULL"
                )
            else:
                cursor.execute(
                    "UPDATE tickets_ticket SET number = printf('T-%06d', id) WHERE number IS NULL"
                )
            return cursor.rowcount

    def _progress(self, done: int, total: int, started: float) -> None:
        elapsed = time.monotonic() - started
        self.stdout.write(f"  {done}/{total} tickets, {elapsed:.1f}s")


class EventRow(NamedTuple):
    """An events_event row, in column order. Every one is processed already: the outbox
    must not mail about history."""

    created_at: datetime
    actor_id: int | None
    actor_label: str
    content_type_id: int
    object_id: int
    object_ref: str
    kind: str
    from_state: str
    to_state: str
    reason: str
    data: dict[str, Any]
    processed_at: datetime


def _events_insert(rows: list[EventRow]) -> None:
    """The event log is most of the rows (about six per ticket). On PostgreSQL it goes in
    with COPY: bulk_create spends most of its time preparing and quoting each value in
    Python, which made it the slowest part of the run; elsewhere with bulk_create."""
    if connection.vendor != "postgresql":
        Event.objects.bulk_create(Event(**row._asdict()) for row in rows)
        return
    quote = connection.ops.quote_name
    # The row's field names are the column names (the foreign keys as their *_id).
    columns = ", ".join(quote(name) for name in EventRow._fields)
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {quote(Event._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([*row[:-2], json.dumps(row.data), row.processed_at])


def _office_hours(moment: datetime) -> bool:
    local = moment.astimezone(sla.AMSTERDAM)
    return local.weekday() < 5 and 8 <= local.hour < 18


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
