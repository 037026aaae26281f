"""Outbound ticket mail: who hears of a new ticket, a reply, a note, an
extension and a resolution; subjects carry "[T-000123]" so that the answer
threads back into the ticket (tested as a round trip through parse_mail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.test import override_settings
from django.utils import timezone

from events.models import Notification
from events.tasks import send_notifications
from tests.base import Personas
from tests.tickets.test_ticket_services import WED_10, cause, new_ticket
from tickets.channel_services import monitoring_alert_receive
from tickets.mail_in import mail_ingest, parse_mail
from tickets.models import InboundMailStatus, Ticket, TicketStatus
from tickets.services import (
    extension_decide,
    extension_request,
    ticket_assign,
    ticket_message_add,
    ticket_transition,
)

MAILS = Path(__file__).parent / "mails"


def mail_in(name: str, now: datetime = WED_10) -> Ticket:
    ticket = mail_ingest(raw=(MAILS / name).read_bytes(), now=now).ticket
    assert ticket is not None
    return ticket


def sent() -> list[EmailMessage]:
    """Run the outbox and return what it sent, emptying the test outbox."""
    send_notifications()
    messages = list(mail.outbox)
    mail.outbox.clear()
    return messages


def tag(ticket: Ticket) -> str:
    return f"[{ticket.number}]"


def test_mail_in_is_acknowledged_with_number_and_response_target(personas: Personas) -> None:
    ticket = mail_in("plain-known-customer.eml")
    assert ticket.response_due_at is not None
    [ack] = sent()
    assert ack.to == ["customer1@example.test"]
    assert ack.subject == f"{tag(ticket)} We have received your request: Webshop shows error 502"
    due = timezone.localtime(ticket.response_due_at).strftime("%Y-%m-%d %H:%M %Z")
    assert f"We will answer within the agreed response time, at the latest on {due}." in ack.body
    assert due == "2026-11-25 11:00 CET"  # 1 hour after 10:00 in Amsterdam
    assert f"/portal/tickets/{ticket.number}/" in ack.body
    html = ack.alternatives[0][0]  # type: ignore[attr-defined]
    assert str(ticket.number) in str(html)


def test_an_unknown_sender_is_acknowledged_without_a_due_time(personas: Personas) -> None:
    ticket = mail_in("unknown-sender.eml")
    [ack] = sent()
    assert ack.to == ["pieter@unknown-company.test"] and tag(ticket) in ack.subject
    assert "We will answer" not in ack.body
    # No customer yet, so no portal page to point to.
    assert "/portal/" not in ack.body and "/tickets/" not in ack.body


def test_a_portal_ticket_is_acknowledged_to_its_requester(personas: Personas) -> None:
    personas.other_customer_user.language = "nl"
    personas.other_customer_user.save()
    ticket = new_ticket(personas, actor=personas.other_customer_user, channel="portal")
    send_notifications()
    notification = Notification.objects.get()
    assert (notification.recipient, notification.language) == (
        personas.other_customer_user.email,
        "nl",
    )
    assert [m.to for m in mail.outbox] == [[personas.other_customer_user.email]]
    assert mail.outbox[0].subject.startswith(tag(ticket))


@override_settings(LANGUAGE_CODE="nl")
def test_mail_to_an_address_is_in_the_site_language(personas: Personas) -> None:
    mail_in("unknown-sender.eml")
    send_notifications()
    assert Notification.objects.get().language == "nl"


def test_monitoring_tickets_are_not_acknowledged(personas: Personas) -> None:
    personas.customer.email = "ops@hoogendijk.test"
    personas.customer.save()
    monitoring_alert_receive(
        host="web01",
        service="http",
        severity="critical",
        summary="HTTP 502",
        actor=None,
        now=WED_10,
        customer_number="1000",
    )
    assert sent() == []
    # The same customer filing by mail does hear back.
    staff_ticket = new_ticket(personas, customer=personas.customer)
    assert [m.to for m in sent()] == [["ops@hoogendijk.test"]]
    assert staff_ticket.number


def test_auto_replies_send_nothing_back(personas: Personas) -> None:
    for name in ("auto-reply.eml", "bounce.eml"):
        inbound = mail_ingest(raw=(MAILS / name).read_bytes(), now=WED_10)
        assert inbound.status == InboundMailStatus.IGNORED
    assert sent() == [] and not Notification.objects.exists()


def test_a_reply_by_mail_round_trip(personas: Personas) -> None:
    """Mail in, acknowledgement, staff reply by mail, the customer's answer
    to that mail threads back into the same ticket and reaches the assignee."""
    ticket = mail_in("plain-known-customer.eml")
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    sent()
    ticket_message_add(
        ticket=ticket,
        body="We restarted the application server.\nPlease check the shop.",
        public=True,
        actor=personas.jr,
        now=WED_10 + timedelta(minutes=20),
    )
    [reply] = sent()
    assert reply.to == ["customer1@example.test"]
    assert reply.subject == f"{tag(ticket)} Webshop shows error 502"
    assert "Jr answered your ticket" in reply.body
    assert "We restarted the application server.\nPlease check the shop." in reply.body
    assert "application server.<br>Please check" in str(reply.alternatives[0][0])  # type: ignore[attr-defined]

    # Our own mail, parsed back, names the ticket.
    assert parse_mail(reply.message().as_bytes()).ticket_number == ticket.number

    quoted = "\n".join(f"> {line}" for line in reply.body.splitlines())
    answer = (
        "From: Customer One <customer1@example.test>\n"
        f"To: {reply.from_email}\n"
        f"Subject: Re: {reply.subject}\n"
        "Message-ID: <answer-1@example.test>\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "It works again, thank you.\n\n"
        "On Wed, 25 Nov 2026 at 10:20, Servicedesk <servicedesk@localhost> wrote:\n"
        f"{quoted}\n"
    ).encode()
    inbound = mail_ingest(raw=answer, now=WED_10 + timedelta(minutes=40))
    assert (inbound.status, inbound.ticket) == (InboundMailStatus.THREADED, ticket)
    assert ticket.messages.last().body == "It works again, thank you."  # type: ignore[union-attr]
    [to_assignee] = sent()
    assert to_assignee.to == [personas.jr.email]
    assert to_assignee.subject == f"{tag(ticket)} Customer reply: Webshop shows error 502"
    assert "It works again, thank you." in to_assignee.body
    assert "customer1@example.test" in to_assignee.body
    assert f"/tickets/{ticket.number}/" in to_assignee.body


def test_a_customer_message_on_an_unassigned_ticket_mails_nobody(personas: Personas) -> None:
    ticket = new_ticket(personas, actor=personas.other_customer_user, channel="portal")
    sent()
    ticket_message_add(
        ticket=ticket,
        body="Any news?",
        public=True,
        actor=personas.other_customer_user,
        now=WED_10 + timedelta(hours=1),
    )
    assert sent() == []
    ticket_assign(ticket=ticket, assignee=personas.sr, actor=personas.head, now=WED_10)
    ticket_message_add(
        ticket=ticket,
        body="Still nothing?",
        public=True,
        actor=personas.other_customer_user,
        now=WED_10 + timedelta(hours=2),
    )
    assert [m.to for m in sent()] == [[personas.sr.email]]


def test_internal_notes_send_nothing(personas: Personas) -> None:
    ticket = mail_in("plain-known-customer.eml")
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    sent()
    ticket_message_add(
        ticket=ticket,
        body="Customer is cranky; handle with care.",
        public=False,
        actor=personas.sr,
        now=WED_10 + timedelta(minutes=5),
    )
    assert sent() == []
    assert all("cranky" not in str(n.context) for n in Notification.objects.all())


def test_extension_and_resolution_subjects_carry_the_number(personas: Personas) -> None:
    ticket = mail_in("plain-known-customer.eml")
    ticket_assign(ticket=ticket, assignee=personas.jr, actor=personas.head, now=WED_10)
    sent()
    extension = extension_request(
        ticket=ticket,
        reason="Vendor part on order",
        appointment=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        actor=personas.jr,
        now=WED_10,
    )
    extension_decide(extension=extension, approve=True, actor=personas.itm, now=WED_10)
    to_customer = [m for m in sent() if m.to == ["customer1@example.test"]]
    assert [m.subject for m in to_customer] == [
        f"{tag(ticket)} Your ticket {ticket.number}: new appointment"
    ]
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="solved",
        cause_code=cause(),
        note="Replaced the disk.",
        actor=personas.jr,
        now=WED_10 + timedelta(hours=3),
    )
    [resolved] = sent()
    assert resolved.to == ["customer1@example.test"]
    assert resolved.subject == f"{tag(ticket)} Your ticket {ticket.number} is resolved"
    # Answering the resolution mail reopens the ticket.
    answer = (
        f"From: customer1@example.test\nSubject: Re: {resolved.subject}\n"
        "Message-ID: <not-fixed@example.test>\n\nNot fixed, sorry.\n"
    ).encode()
    assert mail_ingest(raw=answer, now=WED_10 + timedelta(hours=4)).ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


@pytest.mark.parametrize("subject", ["Re: [T-000000] x", "AW: Re: [T-000000] [T-000001] x"])
def test_the_first_number_in_a_subject_counts(subject: str) -> None:
    raw = f"From: a@example.test\nSubject: {subject}\n\nbody\n".encode()
    assert parse_mail(raw).ticket_number == "T-000000"
