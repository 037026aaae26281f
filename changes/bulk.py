"""Bulk changes for `seed_bulk`: N/50 changes over the ticket period, each walked along
CHANGE_TRANSITIONS as far as its age allows, with the events the services write.

- Classification is computed by changes/classifier.py from the four answers (every "yes"
  justified), never chosen: about a third are major. 3% are emergencies.
- Half come from a change-request ticket of this run (the ticket gets its
  `ticket.change_raised` event); the rest are raised by engineers, mostly for a customer, with
  that customer's machines as affected machines.
- Major changes wait for the next CAB meeting (changes.cab.next_meeting_start; the meetings
  are made as needed and reused), where 12% are rejected; emergencies are decided at once.
  Minor changes go straight to execution.
- Execution starts at the planned start; the outcome (88% implemented, 7% failed, 5% rolled
  back) comes after the planned duration give or take 40%, with actual cost and hours around
  the estimates; a few days later the change is closed. 4% of the changes carried out caused
  an incident (a later incident ticket of this run, linked as caused_incidents).
- A change younger than its story stops where `now` is, so recent changes are submitted,
  awaiting the CAB, approved or in progress.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import F
from django.db.models.functions import Mod

from accounts.models import Customer, Grade, User
from changes import classifier
from changes.cab import CAB_ZONE, next_meeting_start
from changes.models import CabMeeting, Change, ChangeStatus, Classification, Decision
from inventory.models import ConfigurationItem
from servicedesk.bulk import (
    EventRow,
    content_type_id,
    event_row,
    events_insert,
    ids_take,
    objects_insert,
)
from tickets.models import PriorityMatrix, Ticket, TicketType

SUBJECTS = [
    "Upgrade PHP to 8.3",
    "Move the mail domain to the new cluster",
    "Replace the firewall",
    "Add a second web node behind the load balancer",
    "Migrate the database to MySQL 8.0",
    "Renew and install the TLS certificates",
    "Enlarge the backup volume",
    "New VLAN for the office network",
    "Decommission the old file server",
    "Patch the hypervisor hosts",
]
# Chance of "yes" per classifier question: any yes makes the change major.
YES = {"multiple_users": 0.2, "dependencies": 0.12, "unsupported": 0.04, "investment": 0.08}
JUSTIFICATIONS = {
    "multiple_users": "All users of the shop are affected during the switch.",
    "dependencies": "The web application depends on this database.",
    "unsupported": "The new version is not yet supported by the vendor.",
    "investment": "New hardware has to be bought.",
}
EMERGENCY_SHARE = 0.03
FROM_TICKET_SHARE = 0.5
REJECTED_SHARE = 0.12
OUTCOME_WEIGHTS = {
    ChangeStatus.IMPLEMENTED: 88,
    ChangeStatus.FAILED: 7,
    ChangeStatus.ROLLED_BACK: 5,
}
CAUSED_INCIDENT_SHARE = 0.04
IMPACTS = ["high", "medium", "low"]


class Origin(NamedTuple):
    ticket_id: int
    number: str
    subject: str
    customer_id: int | None
    created_at: datetime
    impact: str
    urgency: str


def seed_changes(
    *,
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    now: datetime,
    count: int,
    since: datetime,
    first_ticket_id: int | None,
) -> dict[str, int]:
    if count <= 0:
        return {"changes": 0}
    matrix = {(c.impact, c.urgency): c.priority for c in PriorityMatrix.objects.all()}
    seniors = [e for e in engineers if e.grade == Grade.SENIOR] or list(engineers)
    manager = seniors[0]  # decides every major change, as the change manager
    hosts: dict[int, list[str]] = defaultdict(list)
    for customer_id, hostname in ConfigurationItem.objects.filter(
        customer__in=customers, hostname__isnull=False
    ).values_list("customer_id", "hostname"):
        if hostname:
            hosts[customer_id].append(hostname)
    origins = _origins(rng, first_ticket_id, round(count * FROM_TICKET_SHARE))
    moments = sorted(since + (now - since) * rng.random() for _ in range(count - len(origins)))
    specs: list[tuple[datetime, Origin | None]] = [(m, None) for m in moments]
    for source in origins:  # raised an hour or two days after the ticket, before `now`
        delay = min(timedelta(hours=rng.uniform(1, 48)), (now - source.created_at) / 2)
        specs.append((source.created_at + delay, source))
    specs.sort(key=lambda spec: spec[0])
    changes, events = [], []
    change_type, ticket_type = content_type_id(Change), content_type_id(Ticket)
    for pk, (created, origin) in zip(ids_take(Change, len(specs)), specs, strict=True):
        change = _change(rng, pk, created, origin, customers, engineers, hosts, matrix)
        events.append(_submitted(change_type, change))
        events += _story(rng, change, change_type, manager, now)
        if origin is not None:
            events.append(
                event_row(
                    content_type=ticket_type,
                    object_id=origin.ticket_id,
                    object_ref=origin.number,
                    kind="ticket.change_raised",
                    at=created,
                    actor=change.requester,
                    data={"change": change.number},
                )
            )
        changes.append(change)
    _meetings(changes, now)
    objects_insert(Change, changes)
    caused = _caused_incidents(rng, changes, first_ticket_id, change_type, ticket_type, events)
    return {"changes": len(changes), "caused incidents": caused, "events": events_insert(events)}


def _origins(rng: random.Random, first_ticket_id: int | None, count: int) -> list[Origin]:
    """Change-request tickets of this run that become changes."""
    if first_ticket_id is None or count <= 0:
        return []
    tickets = list(
        Ticket.objects.filter(pk__gte=first_ticket_id, type=TicketType.CHANGE_REQUEST).values_list(
            "pk", "number", "subject", "customer_id", "created_at", "impact", "urgency"
        )
    )
    return [
        Origin(pk, number or "", subject, customer_id, created_at, impact, urgency)
        for pk, number, subject, customer_id, created_at, impact, urgency in rng.sample(
            tickets, min(count, len(tickets))
        )
    ]


def _change(
    rng: random.Random,
    pk: int,
    created: datetime,
    origin: Origin | None,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    hosts: dict[int, list[str]],
    matrix: dict[tuple[str, str], int],
) -> Change:
    answers = {question: rng.random() < share for question, share in YES.items()}
    justifications = {q: JUSTIFICATIONS[q] for q, yes in answers.items() if yes}
    result = classifier.classify(answers, justifications)
    customer_id = origin.customer_id if origin else None
    if origin is None and rng.random() < 0.85:
        customer_id = rng.choice(customers).pk
    impact = origin.impact if origin else rng.choice(IMPACTS)
    urgency = origin.urgency if origin else rng.choice(IMPACTS)
    machines = hosts.get(customer_id or 0, [])
    requester = rng.choice(engineers)
    estimated = Decimal(rng.randrange(100, 20000 if answers["investment"] else 2000, 50))
    return Change(
        pk=pk,
        number=f"C-{pk:06d}",
        subject=origin.subject if origin else rng.choice(SUBJECTS),
        message="Why: see the ticket and the plan below.",
        requester=requester,
        requester_label=requester.username,
        customer_id=customer_id,
        ticket_id=origin.ticket_id if origin else None,
        affected_machines=sorted(rng.sample(machines, min(len(machines), rng.randint(0, 2)))),
        impact=impact,
        urgency=urgency,
        priority=matrix[(impact, urgency)],
        **answers,
        justifications=justifications,
        classification=result.classification,
        emergency=rng.random() < EMERGENCY_SHARE,
        estimated_cost=estimated if rng.random() < 0.6 else None,
        estimated_hours=Decimal(rng.randint(1, 40)),
        created_at=created,
        updated_at=created,
    )


def _submitted(change_type: int, change: Change) -> EventRow:
    return event_row(
        content_type=change_type,
        object_id=change.pk,
        object_ref=change.number or "",
        kind="change.submitted",
        at=change.created_at,
        actor=change.requester,
        to_state=ChangeStatus.SUBMITTED,
        data={"classification": change.classification, "emergency": change.emergency},
    )


def _story(
    rng: random.Random, change: Change, change_type: int, manager: User, now: datetime
) -> list[EventRow]:
    """Walk the change to its last state before `now`, writing a transition event per step
    (as services._transition does) and the fields each step sets."""
    events: list[EventRow] = []
    actor = change.requester

    def step(to: str, at: datetime, reason: str = "", by: User | None = None) -> bool:
        if at >= now:
            return False
        events.append(
            event_row(
                content_type=change_type,
                object_id=change.pk,
                object_ref=change.number or "",
                kind="change.transition",
                at=at,
                actor=by or actor,
                from_state=change.status,
                to_state=to,
                reason=reason,
            )
        )
        change.status, change.updated_at = to, at
        return True

    at = change.created_at
    major = change.classification == Classification.MAJOR
    _plan(rng, change, at, major)
    if major:
        step(ChangeStatus.AWAITING_CAB, at + timedelta(seconds=1), "major change")
        decided = at + timedelta(hours=rng.uniform(1, 4))
        if not change.emergency:
            meeting = next_meeting_start(at)
            change.cab_meeting = CabMeeting(starts_at=meeting)
            decided = meeting + timedelta(minutes=rng.uniform(20, 90))
        rejected = rng.random() < REJECTED_SHARE
        if decided >= now:
            return events
        change.decision = Decision.REJECTED if rejected else Decision.APPROVED
        change.decided_at, change.decided_by = decided, manager
        if change.emergency:  # decided at once, reviewed at the next meeting
            change.cab_meeting = CabMeeting(starts_at=next_meeting_start(decided))
        if rejected:
            change.argumentation = "The risk outweighs the benefit this quarter."
            change.alternatives = "Wait for the next maintenance window; buy support."
            step(ChangeStatus.REJECTED, decided, change.argumentation, manager)
            step(ChangeStatus.CLOSED, decided + timedelta(days=rng.uniform(1, 5)))
            return events
        step(ChangeStatus.APPROVED, decided, "", manager)
        _replan_after(rng, change, decided)
    assert change.planned_start is not None and change.planned_end is not None
    if not step(ChangeStatus.IN_PROGRESS, change.planned_start):
        return events
    planned = change.planned_end - change.planned_start
    finished = change.planned_start + planned * rng.uniform(0.6, 1.4)
    outcome = rng.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]
    note = "" if outcome == ChangeStatus.IMPLEMENTED else "The service did not come back."
    if not step(outcome, finished, note):
        return events
    change.outcome_note = note
    if change.estimated_cost is not None:
        change.actual_cost = (change.estimated_cost * Decimal(rng.uniform(0.7, 1.4))).quantize(
            Decimal("0.01")
        )
    if change.estimated_hours is not None:
        change.actual_hours = (change.estimated_hours * Decimal(rng.uniform(0.6, 1.5))).quantize(
            Decimal("0.01")
        )
    step(ChangeStatus.CLOSED, finished + timedelta(days=rng.uniform(1, 10)))
    return events


def _plan(rng: random.Random, change: Change, at: datetime, major: bool) -> None:
    """The planned window: a few days after submission, majors (and a third of the minors)
    in the evening with an implementation and a rollback plan."""
    evening = major or rng.random() < 0.33
    day = (at + timedelta(days=rng.uniform(1, 6))).astimezone(CAB_ZONE).date()
    start_at = time(22) if evening else time(rng.randint(9, 15))
    change.planned_start = datetime.combine(day, start_at, tzinfo=CAB_ZONE)
    change.planned_end = change.planned_start + timedelta(hours=rng.randint(1, 4))
    if evening:
        change.implementation_plan = "1. Announce. 2. Carry out. 3. Test. 4. Report."
        change.rollback_plan = "Restore last night's snapshot and switch DNS back."


def _replan_after(rng: random.Random, change: Change, decided: datetime) -> None:
    """A window that passed before the decision moves to a few days after it."""
    assert change.planned_start is not None and change.planned_end is not None
    if change.planned_start > decided:
        return
    shift = (decided - change.planned_start) + timedelta(days=rng.randint(1, 7))
    change.planned_start += shift
    change.planned_end += shift


def _meetings(changes: list[Change], now: datetime) -> None:
    """The CAB meetings the majors were put on, made once (starts_at is unique), then
    linked; a meeting in the past was held, its agenda sent the day before."""
    wanted = {c.cab_meeting.starts_at for c in changes if c.cab_meeting is not None}
    CabMeeting.objects.bulk_create(
        [
            CabMeeting(
                starts_at=start,
                agenda_sent_at=start - timedelta(days=1)
                if start - timedelta(days=1) < now
                else None,
                held_at=start + timedelta(hours=1) if start + timedelta(hours=1) < now else None,
            )
            for start in wanted
        ],
        ignore_conflicts=True,
    )
    found = {m.starts_at: m for m in CabMeeting.objects.filter(starts_at__in=wanted)}
    for change in changes:
        if change.cab_meeting is not None:
            change.cab_meeting = found[change.cab_meeting.starts_at]


def _caused_incidents(
    rng: random.Random,
    changes: list[Change],
    first_ticket_id: int | None,
    change_type: int,
    ticket_type: int,
    events: list[EventRow],
) -> int:
    """Link 4% of the changes carried out to an incident that came in within three days
    after their outcome, from a sample of this run's incidents (every 20th id)."""
    if first_ticket_id is None:
        return 0
    incidents: list[tuple[datetime, int, str | None]] = sorted(
        Ticket.objects.filter(pk__gte=first_ticket_id, type=TicketType.INCIDENT)
        .alias(slot=Mod(F("id"), 20))
        .filter(slot=0)
        .values_list("created_at", "pk", "number")
    )
    moments = [row[0] for row in incidents]
    through = Change.caused_incidents.through
    links: list[Any] = []
    for change in changes:
        carried_out = change.status == ChangeStatus.CLOSED and change.actual_hours is not None
        if not carried_out or rng.random() >= CAUSED_INCIDENT_SHARE:
            continue
        assert change.planned_end is not None
        at = bisect.bisect_left(moments, change.planned_end)
        if at >= len(incidents) or incidents[at][0] > change.planned_end + timedelta(days=3):
            continue
        _created, ticket_id, number = incidents[at]
        links.append(through(change_id=change.pk, ticket_id=ticket_id))
        for content_type, object_id, ref, kind, data in (
            (change_type, change.pk, change.number, "change.caused_incident", {"ticket": number}),
            (ticket_type, ticket_id, number, "ticket.caused_by_change", {"change": change.number}),
        ):
            events.append(
                event_row(
                    content_type=content_type,
                    object_id=object_id,
                    object_ref=ref or "",
                    kind=kind,
                    at=change.updated_at,
                    data=data,
                )
            )
    through.objects.bulk_create(links, ignore_conflicts=True)
    return len(links)
