from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from events.models import Event
from events.tasks import send_notifications
from tests.base import Personas
from tickets.models import (
    Attachment,
    CauseCode,
    Extension,
    PriorityMatrix,
    Task,
    Ticket,
    TicketStatus,
)
from tickets.services import (
    TransitionError,
    escalation_decide,
    escalation_request,
    extension_decide,
    extension_request,
    resolved_tickets_close,
    ticket_assign,
    ticket_classify,
    ticket_create,
    ticket_message_add,
    ticket_transition,
)

# Wednesday 25 November 2026, 10:00 in Amsterdam (CET, UTC+1).
WED_10 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def new_ticket(personas: Personas, now: datetime = WED_10, **kwargs) -> Ticket:
    fields = {
        "customer": personas.other_customer,  # standard contract, business hours
        "subject": "Mail is slow",
        "message": "Since this morning.",
        "type": "incident",
        "channel": "phone",
        "impact": "medium",
        "urgency": "medium",
        "actor": personas.jr,
        "now": now,
        **kwargs,
    }
    return ticket_create(**fields)


def cause() -> CauseCode:
    return CauseCode.objects.get(code="configuration")


def test_a_ticket_gets_its_number_priority_and_due_times(personas: Personas) -> None:
    ticket = new_ticket(personas)
    assert ticket.number == f"T-{ticket.pk:06d}"
    assert ticket.priority == 2  # medium x medium
    assert ticket.status == TicketStatus.NEW
    assert ticket.response_due_at == WED_10 + HOUR
    assert ticket.resolution_due_at == datetime(
        2026, 11, 26, 16, 0, tzinfo=UTC
    )  # 16 business hours
    assert Event.objects.filter(object_id=ticket.pk, kind="ticket.created").exists()
    assert ticket.messages.get().body == "Since this morning."


def test_priority_comes_from_the_matrix_data(personas: Personas) -> None:
    assert new_ticket(personas, impact="high", urgency="high").priority == 1
    assert new_ticket(personas, impact="low", urgency="low").priority == 3
    PriorityMatrix.objects.filter(impact="low", urgency="low").update(priority=2)
    assert new_ticket(personas, impact="low", urgency="low").priority == 2


def test_the_customers_proposal_is_kept_beside_the_classification(personas: Personas) -> None:
    ticket = new_ticket(
        personas,
        actor=personas.other_customer_user,
        channel="portal",
        impact="high",
        urgency="high",
        requested_priority=1,
    )
    assert (ticket.requested_priority, ticket.classified) == (1, False)
    ticket = ticket_classify(
        ticket=ticket, impact="low", urgency="medium", actor=personas.jr, now=WED_10
    )
    assert (ticket.priority, ticket.requested_priority, ticket.classified) == (3, 1, True)
    assert ticket.resolution_due_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 40 business hours


def test_a_customer_files_only_for_their_own_company(personas: Personas) -> None:
    with pytest.raises(ValidationError, match="own company"):
        new_ticket(personas, customer=personas.customer, actor=personas.other_customer_user)


def test_the_first_public_staff_reply_meets_the_response_target(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_message_add(
        ticket=ticket,
        body="Internal: check logs",
        public=False,
        actor=personas.jr,
        now=WED_10 + HOUR / 2,
    )
    ticket.refresh_from_db()
    assert (ticket.first_response_at, ticket.status) == (None, TicketStatus.NEW)
    ticket_message_add(
        ticket=ticket, body="We are on it", public=True, actor=personas.jr, now=WED_10 + 2 * HOUR
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at == WED_10 + 2 * HOUR
    assert ticket.status == TicketStatus.OPEN
    assert ticket.response_breached is True  # answered after the 1 hour target


def test_waiting_on_the_customer_pauses_the_clock_until_they_answer(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_message_add(
        ticket=ticket, body="Which mailbox?", public=True, actor=personas.jr, now=WED_10
    )
    ticket_transition(ticket=ticket, to="waiting_on_customer", actor=personas.jr, now=WED_10 + HOUR)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at is None  # clock stopped
    ticket_message_add(
        ticket=ticket,
        body="info@",
        public=True,
        actor=personas.other_customer_user,
        now=WED_10 + 3 * HOUR,
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    # Two business hours of waiting push the due time two hours on.
    assert ticket.resolution_due_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_only_the_transition_table_moves_a_ticket(personas: Personas) -> None:
    ticket = new_ticket(personas)
    with pytest.raises(TransitionError):
        ticket_transition(ticket=ticket, to="closed", actor=personas.jr, now=WED_10)
    with pytest.raises(ValidationError, match="escalation"):
        ticket_transition(ticket=ticket, to="escalated", actor=personas.jr, now=WED_10)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_resolving_an_incident_needs_a_resolution_and_a_cause(personas: Personas) -> None:
    ticket = new_ticket(personas)
    with pytest.raises(ValidationError) as error:
        ticket_transition(ticket=ticket, to="resolved", actor=personas.jr, now=WED_10)
    assert {"resolution", "cause_code"} <= error.value.message_dict.keys()
    info = new_ticket(personas, type="information_request")
    ticket_transition(
        ticket=info, to="resolved", resolution="solved", actor=personas.jr, now=WED_10
    )
    info.refresh_from_db()
    assert info.status == TicketStatus.RESOLVED


def test_resolution_tells_the_customer(personas: Personas) -> None:
    ticket = new_ticket(personas, actor=personas.other_customer_user, channel="portal")
    send_notifications()  # the acknowledgement of the new ticket
    mail.outbox.clear()
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="workaround",
        cause_code=cause(),
        note="Restarted the mail queue.",
        actor=personas.jr,
        now=WED_10,
    )
    send_notifications()
    assert [m.to for m in mail.outbox] == [[personas.other_customer_user.email]]
    assert str(ticket.number) in str(mail.outbox[0].subject)
    assert "Restarted the mail queue." in str(mail.outbox[0].body)


def test_a_customer_reply_reopens_a_resolved_ticket(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="solved",
        cause_code=cause(),
        actor=personas.jr,
        now=WED_10,
    )
    ticket_message_add(
        ticket=ticket,
        body="Still broken",
        public=True,
        actor=personas.other_customer_user,
        now=WED_10 + HOUR,
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution, ticket.resolved_at) == (TicketStatus.OPEN, "", None)


def test_resolved_tickets_close_after_five_days_without_answer(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="solved",
        cause_code=cause(),
        actor=personas.jr,
        now=WED_10,
    )
    assert resolved_tickets_close(now=WED_10 + timedelta(days=5) - HOUR) == 0
    assert resolved_tickets_close(now=WED_10 + timedelta(days=5, hours=1)) == 1
    assert resolved_tickets_close(now=WED_10 + timedelta(days=6)) == 0
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    with pytest.raises(ValidationError, match="closed"):
        ticket_message_add(
            ticket=ticket,
            body="Hello?",
            public=True,
            actor=personas.other_customer_user,
            now=WED_10 + timedelta(days=7),
        )


def test_an_extension_is_approved_once_by_the_it_manager(personas: Personas) -> None:
    ticket = new_ticket(personas, actor=personas.other_customer_user, channel="portal")
    appointment = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    extension = extension_request(
        ticket=ticket,
        reason="Vendor part on order",
        appointment=appointment,
        actor=personas.jr,
        now=WED_10,
    )
    with pytest.raises(PermissionDenied):
        extension_decide(extension=extension, approve=True, actor=personas.head, now=WED_10)
    extension_decide(extension=extension, approve=True, actor=personas.itm, now=WED_10 + HOUR)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == appointment
    assert ticket.extended_until == appointment
    with pytest.raises(ValidationError, match="already"):
        extension_request(
            ticket=ticket,
            reason="More",
            appointment=appointment + timedelta(days=2),
            actor=personas.jr,
            now=WED_10,
        )
    send_notifications()
    assert any(
        m.to == [personas.other_customer_user.email] and "appointment" in str(m.subject)
        for m in mail.outbox
    )


@pytest.mark.parametrize(
    ("reason", "offset", "field"),
    [
        ("", timedelta(days=9), "reason"),
        ("Parts", -HOUR, "appointment"),
        ("Parts", HOUR, "appointment"),
    ],
)
def test_a_bad_extension_request_is_refused(personas: Personas, reason, offset, field) -> None:
    ticket = new_ticket(personas)
    with pytest.raises(ValidationError) as error:
        extension_request(
            ticket=ticket, reason=reason, appointment=WED_10 + offset, actor=personas.jr, now=WED_10
        )
    assert field in error.value.message_dict
    assert not Extension.objects.exists()


def test_a_refused_extension_needs_a_reason_and_leaves_the_due_time(personas: Personas) -> None:
    ticket = new_ticket(personas)
    due = ticket.resolution_due_at
    extension = extension_request(
        ticket=ticket,
        reason="Parts",
        appointment=WED_10 + timedelta(days=9),
        actor=personas.jr,
        now=WED_10,
    )
    with pytest.raises(ValidationError, match="why"):
        extension_decide(extension=extension, approve=False, actor=personas.itm, now=WED_10)
    extension_decide(
        extension=extension, approve=False, note="Do it this week", actor=personas.itm, now=WED_10
    )
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == due


def test_functional_escalation_gives_a_senior_a_subtask(personas: Personas) -> None:
    ticket = new_ticket(personas)
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    ticket_message_add(ticket=ticket, body="Looking", public=True, actor=personas.jr, now=WED_10)
    with pytest.raises(ValidationError) as error:
        escalation_request(
            ticket=ticket, reason="Stuck", tried_together=False, actor=personas.jr, now=WED_10
        )
    assert "tried_together" in error.value.message_dict
    with pytest.raises(ValidationError, match="assignee"):
        escalation_request(
            ticket=ticket, reason="Stuck", tried_together=True, actor=personas.sr, now=WED_10
        )
    escalation = escalation_request(
        ticket=ticket,
        reason="Stuck after a joint look",
        tried_together=True,
        supplier="Mail vendor",
        actor=personas.jr,
        now=WED_10,
    )
    with pytest.raises(PermissionDenied):
        escalation_decide(
            escalation=escalation,
            approve=True,
            engineer=personas.sr,
            actor=personas.itm,
            now=WED_10,
        )
    with pytest.raises(ValidationError, match="senior"):
        escalation_decide(
            escalation=escalation,
            approve=True,
            engineer=personas.jr,
            actor=personas.head,
            now=WED_10,
        )
    escalation_decide(
        escalation=escalation,
        approve=True,
        engineer=personas.sr,
        actor=personas.head,
        now=WED_10 + HOUR,
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.escalated, ticket.assignee) == (
        TicketStatus.ESCALATED,
        True,
        personas.jr,
    )
    task = Task.objects.get(assignee=personas.sr)
    assert task.link == ticket and "Mail vendor" in task.description


def test_changing_a_customers_contract_recomputes_open_tickets(
    personas: Personas, token_client
) -> None:
    ticket = new_ticket(personas, impact="high", urgency="high")  # P1, standard: 4 business hours
    assert ticket.resolution_due_at == WED_10 + 4 * HOUR
    client = token_client("customers:write")
    response = client.put(
        "/api/v1/customers/2000/", {"name": "Korenschoof", "sla": "managed"}, format="json"
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.sla_contract.code == "managed"  # type: ignore[union-attr]
    assert Event.objects.filter(object_id=ticket.pk, kind="ticket.contract_changed").exists()


def test_a_managed_p1_runs_around_the_clock(personas: Personas) -> None:
    saturday_3am = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    ticket = new_ticket(
        personas, customer=personas.customer, impact="high", urgency="high", now=saturday_3am
    )
    assert ticket.resolution_due_at == saturday_3am + 4 * HOUR


@override_settings(ATTACHMENT_MAX_BYTES=1024, ATTACHMENT_TYPES={"text/plain"})
def test_attachments_are_limited_in_size_and_type(personas: Personas) -> None:
    ticket = new_ticket(personas)
    good = SimpleUploadedFile("log.txt", b"ok", content_type="text/plain")
    ticket_message_add(
        ticket=ticket, body="log", public=True, actor=personas.jr, now=WED_10, attachments=[good]
    )
    assert Attachment.objects.get().filename == "log.txt"
    big = SimpleUploadedFile("big.txt", b"x" * 2048, content_type="text/plain")
    exe = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")
    for upload in (big, exe):
        with pytest.raises(ValidationError):
            ticket_message_add(
                ticket=ticket,
                body="bad",
                public=True,
                actor=personas.jr,
                now=WED_10,
                attachments=[upload],
            )
    assert ticket.messages.count() == 2  # the refused messages were not kept


def test_the_customer_confirms_or_reopens_a_resolution(personas: Personas) -> None:
    from tickets.services import ticket_confirm_resolution, ticket_reopen

    ticket = new_ticket(personas, actor=personas.other_customer_user, channel="portal")
    with pytest.raises(ValidationError):
        ticket_confirm_resolution(ticket=ticket, actor=personas.other_customer_user, now=WED_10)
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="solved",
        cause_code=cause(),
        actor=personas.jr,
        now=WED_10,
    )
    with pytest.raises(ValidationError):
        ticket_reopen(ticket=ticket, reason=" ", actor=personas.other_customer_user, now=WED_10)
    ticket_reopen(
        ticket=ticket, reason="Still slow", actor=personas.other_customer_user, now=WED_10 + HOUR
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="solved",
        cause_code=cause(),
        actor=personas.jr,
        now=WED_10 + 2 * HOUR,
    )
    ticket = ticket_confirm_resolution(
        ticket=ticket, actor=personas.other_customer_user, now=WED_10 + 3 * HOUR
    )
    assert ticket.status == TicketStatus.CLOSED
