from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from events.tasks import send_notifications
from tests.base import Personas, make_personas
from tests.tickets.test_ticket_services import WED_10, new_ticket
from tickets.models import Ticket
from tickets.services import ticket_assign, ticket_message_add
from tickets.sla_services import sla_sweep
from tickets.tasks import sweep_sla

HOUR = timedelta(hours=1)


def kinds(ticket: Ticket) -> list[tuple[str, str]]:
    return [
        (e.kind, e.data["target"])
        for e in Event.objects.filter(object_id=ticket.pk, kind__startswith="ticket.sla_").order_by(
            "id"
        )
    ]


def test_warning_then_breach_each_once_per_target(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    assert sla_sweep(now=WED_10 + timedelta(minutes=40)) == {
        "response_breached": 0,
        "resolution_breached": 0,
        "response_warning": 0,
        "resolution_warning": 0,
    }
    sla_sweep(now=WED_10 + timedelta(minutes=46))  # 75% of the hour
    assert kinds(ticket) == [("ticket.sla_warning", "response")]
    sla_sweep(now=WED_10 + timedelta(minutes=61))
    sla_sweep(now=WED_10 + timedelta(minutes=62))
    assert kinds(ticket) == [
        ("ticket.sla_warning", "response"),
        ("ticket.sla_breached", "response"),
    ]
    ticket.refresh_from_db()
    assert ticket.response_breached and not ticket.resolution_breached
    # Resolution: 16 business hours; 75% is 12 h, reached Thursday 12:00 UTC.
    sla_sweep(now=datetime(2026, 11, 26, 12, 1, tzinfo=UTC))
    sla_sweep(now=datetime(2026, 11, 26, 16, 1, tzinfo=UTC))
    sla_sweep(now=datetime(2026, 11, 26, 16, 2, tzinfo=UTC))
    assert kinds(ticket)[2:] == [
        ("ticket.sla_warning", "resolution"),
        ("ticket.sla_breached", "resolution"),
    ]


def test_the_warning_goes_to_the_assignee_the_breach_to_head_and_it_manager(
    personas: Personas,
) -> None:
    ticket = new_ticket(personas)
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    sla_sweep(now=WED_10 + timedelta(minutes=46))
    send_notifications()
    assert [m.to for m in mail.outbox] == [[personas.jr.email]]
    mail.outbox.clear()
    sla_sweep(now=WED_10 + timedelta(minutes=61))
    send_notifications()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([personas.head.email, personas.itm.email])
    assert all("breached" in m.subject.lower() for m in mail.outbox)


def test_an_answered_ticket_gets_no_response_breach(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_message_add(
        ticket=ticket,
        body="On it",
        public=True,
        actor=personas.jr,
        now=WED_10 + timedelta(minutes=10),
    )
    sla_sweep(now=WED_10 + 2 * HOUR)
    assert kinds(ticket) == []


def test_the_celery_task_runs_the_sweep(personas: Personas) -> None:
    new_ticket(personas, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))  # long overdue today
    result = sweep_sla()
    assert result["response_breached"] == 1 and result["resolution_breached"] == 1
    assert sweep_sla()["response_breached"] == 0


def test_the_sweep_costs_what_is_due_not_what_is_open(personas: Personas) -> None:
    for _ in range(30):
        new_ticket(personas)
    with CaptureQueriesContext(connection) as nothing_due:
        sla_sweep(now=WED_10 + timedelta(minutes=5))
    assert len(nothing_due) == 4  # one indexed query per (target, kind)
    assert all("LIMIT" in q["sql"] for q in nothing_due.captured_queries)


@pytest.mark.postgres
def test_the_sweep_queries_use_the_partial_indexes(personas: Personas) -> None:
    new_ticket(personas)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            sla_sweep(now=WED_10 + timedelta(minutes=5))
        plans = []
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append(" ".join(row[0] for row in cursor.fetchall()))
        cursor.execute("SET enable_seqscan = on")
    for plan, name in zip(
        plans,
        [
            "ticket_sweep_response_due_idx",
            "ticket_sweep_resol_due_idx",
            "ticket_sweep_response_warn_idx",
            "ticket_sweep_resol_warn_idx",
        ],
        strict=True,
    ):
        assert name in plan, plan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_announce_each_breach_once() -> None:
    personas = make_personas()
    tickets = [new_ticket(personas, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) for _ in range(25)]
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            sla_sweep(now=WED_10)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    breaches = Event.objects.filter(kind="ticket.sla_breached")
    assert breaches.count() == 2 * len(tickets)  # response and resolution, once each
    assert Event.objects.filter(kind="ticket.sla_warning").count() == 2 * len(tickets)


def test_the_warning_names_the_target_in_the_readers_language(personas: Personas) -> None:
    personas.jr.language = "nl"
    personas.jr.save()
    ticket = new_ticket(personas)
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    sla_sweep(now=WED_10 + timedelta(minutes=46))
    send_notifications()
    assert "norm voor reactie" in str(mail.outbox[0].subject)


def test_a_run_announces_batch_after_batch_up_to_its_limit(personas: Personas) -> None:
    overdue = [new_ticket(personas, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) for _ in range(7)]
    first = sla_sweep(now=WED_10, batch=2, max_batches=3)  # 3 batches of 2 per kind
    assert first == dict.fromkeys(first, 6) and len(first) == 4
    second = sla_sweep(now=WED_10, batch=2, max_batches=3)  # the one left over, per kind
    assert second == dict.fromkeys(first, 1)
    assert sla_sweep(now=WED_10, batch=2) == dict.fromkeys(first, 0)
    for ticket in overdue:
        assert sorted(kinds(ticket)) == [
            ("ticket.sla_breached", "resolution"),
            ("ticket.sla_breached", "response"),
            ("ticket.sla_warning", "resolution"),
            ("ticket.sla_warning", "response"),
        ]
        ticket.refresh_from_db()
        assert ticket.response_breached and ticket.resolution_breached
        assert ticket.response_breach_recorded_at == WED_10
    event = Event.objects.get(
        kind="ticket.sla_breached", object_id=overdue[0].pk, data__target="response"
    )
    assert event.object_ref == overdue[0].number
    assert event.actor_label == "system" and event.processed_at is None  # it notifies
    due = overdue[0].response_due_at
    assert due is not None and event.data["at"] == due.isoformat()
