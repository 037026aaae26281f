"""The stored SLA state equals what the pure engine computes from the event
log, whatever happened to the ticket, and sla_recompute repairs drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.base import make_personas
from tests.tickets.test_ticket_services import WED_10, new_ticket
from tickets.models import CauseCode, SlaTarget, Ticket
from tickets.services import (
    extension_decide,
    extension_request,
    ticket_classify,
    ticket_message_add,
    ticket_transition,
)
from tickets.sla_services import SLA_FIELDS, sla_sweep, ticket_sla_state

ACTIONS = st.sampled_from(
    [
        "reply",
        "note",
        "customer",
        "wait",
        "open",
        "resolve",
        "classify_up",
        "classify_down",
        "extend",
        "sweep",
    ]
)


def apply(action: str, ticket: Ticket, personas, now: datetime) -> None:
    ticket.refresh_from_db()
    try:
        with transaction.atomic():
            if action == "reply":
                ticket_message_add(ticket=ticket, body="r", public=True, actor=personas.jr, now=now)
            elif action == "note":
                ticket_message_add(
                    ticket=ticket, body="n", public=False, actor=personas.jr, now=now
                )
            elif action == "customer":
                ticket_message_add(
                    ticket=ticket,
                    body="c",
                    public=True,
                    actor=personas.other_customer_user,
                    now=now,
                )
            elif action in ("wait", "open"):
                to = "waiting_on_customer" if action == "wait" else "open"
                ticket_transition(ticket=ticket, to=to, actor=personas.jr, now=now)
            elif action == "resolve":
                ticket_transition(
                    ticket=ticket,
                    to="resolved",
                    resolution="solved",
                    cause_code=CauseCode.objects.first(),
                    actor=personas.jr,
                    now=now,
                )
            elif action.startswith("classify"):
                level = "high" if action.endswith("up") else "low"
                ticket_classify(
                    ticket=ticket, impact=level, urgency=level, actor=personas.jr, now=now
                )
            elif action == "extend":
                extension = extension_request(
                    ticket=ticket,
                    reason="r",
                    appointment=now + timedelta(days=10),
                    actor=personas.jr,
                    now=now,
                )
                extension_decide(extension=extension, approve=True, actor=personas.itm, now=now)
            elif action == "sweep":
                sla_sweep(now=now)
    except Exception as error:  # an action the rules refuse changes nothing
        assert type(error).__name__ in ("ValidationError", "TransitionError"), error


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(ACTIONS, st.integers(min_value=1, max_value=60 * 30)), min_size=1, max_size=12
    ),
    start=st.integers(min_value=0, max_value=7 * 24 * 60),
)
def test_stored_sla_equals_the_engine_after_any_history(django_db_blocker, steps, start) -> None:
    with django_db_blocker.unblock(), transaction.atomic():
        personas = make_personas()
        now = WED_10 + timedelta(minutes=start)
        ticket = new_ticket(personas, now=now)
        for action, minutes in steps:
            now += timedelta(minutes=minutes)
            apply(action, ticket, personas, now)
        sla_sweep(now=now)
        ticket.refresh_from_db()
        state = ticket_sla_state(ticket, now=now)
        for name in SLA_FIELDS:
            assert getattr(ticket, name) == getattr(state, name), (name, steps)
        transaction.set_rollback(True)


@time_machine.travel(datetime(2026, 11, 25, 9, 30, tzinfo=UTC), tick=False)
def test_sla_recompute_reports_and_repairs_drift(db: None) -> None:
    personas = make_personas()
    ticket = new_ticket(personas, now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    out = StringIO()
    call_command("sla_recompute", stdout=out)
    assert "0 differed" in out.getvalue()
    # The contract's target is edited in the admin: stored due times are stale.
    SlaTarget.objects.filter(contract__code="standard", priority=2).update(
        resolution_minutes=8 * 60
    )
    out = StringIO()
    call_command("sla_recompute", "--ticket", ticket.number, "--dry-run", stdout=out)
    assert f"{ticket.number} resolution_due_at" in out.getvalue()
    call_command("sla_recompute", stdout=StringIO())
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    out = StringIO()
    call_command("sla_recompute", stdout=out)
    assert "0 differed" in out.getvalue()


def test_editing_a_contract_recomputes_its_open_tickets(db: None) -> None:
    from tickets.tasks import recompute_contract

    personas = make_personas()
    ticket = new_ticket(personas, now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    target = SlaTarget.objects.get(contract__code="standard", priority=2)
    target.resolution_minutes = 8 * 60
    target.save()
    assert recompute_contract(target.contract_id) == 1
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
