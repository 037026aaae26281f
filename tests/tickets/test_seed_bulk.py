"""seed_bulk: counts, numbering, the shape of the data, and above all that the SLA columns
it stores are exactly what the services compute from the event log it writes."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q

from accounts.models import Customer, User
from events.models import Event
from tickets.bulk import SWEEP_BACKLOG
from tickets.models import ACTIVE_STATUSES, Department, Message, Ticket, TicketStatus
from tickets.sla_services import SLA_FIELDS, SWEEPS, sla_sweep, ticket_sla_state

# A Wednesday morning in office hours, so business-hour due times fall on both sides of it.
NOW = datetime(2026, 3, 18, 10, 15, tzinfo=UTC)


def seed(tickets: int = 300) -> str:
    out = StringIO()
    call_command(
        "seed_bulk", tickets=tickets, customers=30, seed=3, now=NOW.isoformat(), stdout=out
    )
    return out.getvalue()


def sweep_candidates(now: datetime) -> dict[str, int]:
    """What sla_sweep would pick up at `now`, counted with its own filters."""
    counts = {}
    for target, kind, moment, marker, _flag, extra in SWEEPS:
        counts[f"{target}_{kind.rsplit('_', 1)[-1]}"] = Ticket.objects.filter(
            Q(status__in=ACTIVE_STATUSES),
            extra,
            **{f"{moment}__lt": now, f"{marker}__isnull": True},
        ).count()
    return counts


@pytest.fixture
def seeded(db: None) -> str:
    return seed()


def test_counts_and_numbers(seeded: str) -> None:
    assert "Done: 300 tickets" in seeded
    assert Ticket.objects.count() == 300
    assert Customer.objects.count() == 30
    assert min(int(n) for n in Customer.objects.values_list("number", flat=True)) == 100000
    engineers = User.objects.filter(username__startswith="bulk-eng-")
    assert engineers.count() == 200
    assert set(engineers.values_list("username", flat=True)) == {
        f"bulk-eng-{i:03d}" for i in range(1, 201)
    }
    assert all(u.is_staff and not u.has_usable_password() for u in engineers)
    assert engineers.filter(groups__name="engineer").count() == 200
    for pk, number in Ticket.objects.values_list("pk", "number"):
        assert number == f"T-{pk:06d}"
        assert re.fullmatch(r"T-\d{6,}", number)
    # Each ticket opens with a first message at its creation time.
    for ticket in Ticket.objects.all()[:50]:
        assert ticket.messages.filter(created_at=ticket.created_at).exists()
    assert Message.objects.values("ticket").distinct().count() == 300
    # About three per ticket: the first, the first response, the resolution, and a question
    # and its answer where the ticket waited on the customer.
    assert 2.5 * 300 <= Message.objects.count() <= 3.6 * 300
    created = Event.objects.filter(kind="ticket.created")
    assert created.count() == 300
    assert set(created.values_list("object_ref", flat=True)) == set(
        Ticket.objects.values_list("number", flat=True)
    )
    # Nothing for the outbox: the history must not send mail.
    assert not Event.objects.filter(processed_at__isnull=True).exists()


def test_assigned_tickets_go_to_a_department_and_one_of_its_engineers(seeded: str) -> None:
    assert Department.objects.filter(code__startswith="bulk-q").count() == 20
    assigned = Ticket.objects.filter(assignee__isnull=False)
    assert not assigned.filter(department__isnull=True).exists()
    assert not Ticket.objects.filter(assignee__isnull=True, department__isnull=False).exists()
    assert set(assigned.values_list("department__code", flat=True)) <= {
        f"bulk-q{i:02d}" for i in range(1, 21)
    }
    departments_of: dict[int, set[int]] = {}
    for assignee, department in assigned.values_list("assignee", "department"):
        departments_of.setdefault(assignee, set()).add(department)
    assert all(len(found) == 1 for found in departments_of.values())
    # Queues differ in size: the busiest has several times the tickets of the quietest.
    sizes = Counter(assigned.values_list("department", flat=True))
    assert len(sizes) >= 15
    assert max(sizes.values()) >= 3 * min(sizes.values())


def test_distribution(seeded: str) -> None:
    unclosed = Ticket.objects.exclude(status=TicketStatus.CLOSED)
    assert 0.05 <= unclosed.count() / 300 <= 0.16
    assert len(set(unclosed.values_list("status", flat=True))) >= 4
    assert 0.03 <= Ticket.objects.filter(priority=1).count() / 300 <= 0.2
    assert Ticket.objects.filter(type="incident").count() > 150
    assert Ticket.objects.filter(assignee__isnull=False).count() > 250
    busiest = max(Ticket.objects.filter(customer=c).count() for c in Customer.objects.all())
    assert busiest >= 3 * 300 / 30  # skewed, not uniform
    for ticket in Ticket.objects.filter(status=TicketStatus.CLOSED):
        assert ticket.first_response_at and ticket.resolved_at and ticket.closed_at
        assert ticket.created_at <= ticket.first_response_at <= ticket.resolved_at
        assert ticket.resolved_at <= ticket.closed_at <= NOW
    assert Ticket.objects.filter(created_at__lt=NOW - timedelta(days=365)).exists()
    # Transitions to resolved and closed exist for every closed ticket.
    closed = Ticket.objects.filter(status=TicketStatus.CLOSED).count()
    for state in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        assert Event.objects.filter(kind="ticket.transition", to_state=state).count() >= closed


def test_stored_sla_equals_what_the_services_compute(seeded: str) -> None:
    unclosed = list(Ticket.objects.exclude(status=TicketStatus.CLOSED))
    sample = unclosed + list(Ticket.objects.filter(status=TicketStatus.CLOSED)[:60])
    for ticket in sample:
        state = ticket_sla_state(ticket, now=NOW)
        stored = {name: getattr(ticket, name) for name in SLA_FIELDS}
        assert stored == {name: getattr(state, name) for name in SLA_FIELDS}, ticket.number
    # Not trivially equal: unclosed due times lie on both sides of NOW, and paused
    # tickets (waiting on the customer) have no resolution due time.
    due = [t.resolution_due_at for t in unclosed if t.resolution_due_at]
    assert any(d < NOW for d in due)
    assert any(d > NOW for d in due)
    assert any(t.resolution_due_at is None for t in unclosed if t.status == "waiting_on_customer")
    assert Ticket.objects.filter(resolution_breached=True, status=TicketStatus.CLOSED).exists()


def test_sweeper_finds_only_the_recent_backlog(seeded: str) -> None:
    # Everything due before the backlog window was announced already (marker set) ...
    for _target, _kind, moment, marker, _flag, extra in SWEEPS:
        assert not Ticket.objects.filter(
            Q(status__in=ACTIVE_STATUSES),
            extra,
            **{f"{moment}__lt": NOW - SWEEP_BACKLOG, f"{marker}__isnull": True},
        ).exists()
    # ... with one event per marker.
    markers = sum(
        Ticket.objects.filter(**{f"{marker}__isnull": False}).count()
        for _t, _k, _m, marker, _f, _e in SWEEPS
    )
    announced = Event.objects.filter(kind__in=["ticket.sla_warning", "ticket.sla_breached"])
    assert markers == announced.count() > 0
    # The sweep at NOW takes what came due in the backlog window, a second one nothing; a
    # sweep two days later finds what the seed made due meanwhile.
    for now in (NOW, NOW + timedelta(days=2)):
        expected = sweep_candidates(now)
        assert sla_sweep(now=now) == expected
        assert sla_sweep(now=now) == dict.fromkeys(expected, 0)
    assert sum(expected.values()) > 0


def test_rerun_adds_tickets_and_reuses_customers(seeded: str) -> None:
    last = Ticket.objects.order_by("-pk").first()
    assert last is not None
    seed(tickets=40)
    assert Ticket.objects.count() == 340
    assert Customer.objects.count() == 30
    assert User.objects.filter(username__startswith="bulk-eng-").count() == 200
    assert Department.objects.filter(code__startswith="bulk-q").count() == 20
    new = Ticket.objects.filter(pk__gt=last.pk)
    assert new.count() == 40
    assert all(t.number == f"T-{t.pk:06d}" for t in new)
