from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import OnCallShift
from events.tasks import send_notifications
from tests.base import Personas
from tests.tickets.test_ticket_services import WED_10
from tickets.channel_services import call_card_create, call_card_to_ticket, customer_for_call
from tickets.models import CallCard, CauseCode, Ticket

CALL = {
    "phone": "+31 70 555 0200",
    "summary": "Cannot log in to webmail",
    "received_at": "2026-11-25T09:05:00Z",
}


def test_a_call_is_linked_by_customer_number_or_by_phone(personas: Personas) -> None:
    personas.other_customer.phone = "070-5550200"
    personas.other_customer.save()
    assert customer_for_call(number="1000", phone="") == personas.customer
    assert customer_for_call(number="9999", phone="+31 70 555 0200") == personas.other_customer
    assert customer_for_call(number=None, phone="0612345678") is None


def test_a_call_card_becomes_a_phone_ticket_once(personas: Personas) -> None:
    card = call_card_create(
        phone="0612345678",
        summary="Site down\nsince 9",
        received_at=WED_10,
        actor=personas.jr,
        now=WED_10,
        caller="Kees",
    )
    with pytest.raises(ValidationError, match="customer"):
        call_card_to_ticket(
            card=card,
            subject="",
            type="incident",
            impact="high",
            urgency="high",
            actor=personas.jr,
            now=WED_10,
        )
    ticket = call_card_to_ticket(
        card=card,
        subject="",
        type="incident",
        impact="high",
        urgency="high",
        customer=personas.customer,
        actor=personas.jr,
        now=WED_10,
    )
    assert (ticket.channel, ticket.subject, ticket.priority) == ("phone", "Site down", 1)
    assert "Kees (0612345678)" in ticket.messages.get().body
    with pytest.raises(ValidationError, match="already"):
        call_card_to_ticket(
            card=card,
            subject="",
            type="incident",
            impact="low",
            urgency="low",
            actor=personas.jr,
            now=WED_10,
        )


@time_machine.travel(WED_10 + timedelta(minutes=10), tick=False)
def test_telephony_posts_call_cards(personas: Personas, token_client) -> None:
    client = token_client("callcards:write")
    response = client.post("/api/v1/call-cards/", {**CALL, "customer": "2000"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["customer"] == "2000" and response.json()["ticket"] is None
    unknown = client.post(
        "/api/v1/call-cards/", {**CALL, "customer": "4242", "phone": "0612345678"}, format="json"
    )
    assert unknown.status_code == 201 and unknown.json()["customer"] is None
    for bad, field in (
        ({**CALL, "phone": "n/a"}, "phone"),
        ({**CALL, "received_at": "2027-01-01T00:00:00Z"}, "received_at"),
        ({**CALL, "summary": ""}, "summary"),
    ):
        answer = client.post("/api/v1/call-cards/", bad, format="json")
        assert answer.status_code == 400 and field in answer.json(), field
    assert CallCard.objects.count() == 2
    assert (
        token_client("tickets:write", name="x")
        .post("/api/v1/call-cards/", CALL, format="json")
        .status_code
        == 403
    )


def test_the_call_page_notes_a_call_and_makes_a_ticket(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.jr)
    assert client.post("/call-cards/", {"phone": "", "summary": ""}).status_code == 200
    client.post(
        "/call-cards/", {"phone": "0612345678", "customer": "1000", "summary": "Backup question"}
    )
    card = CallCard.objects.get()
    page = client.get("/call-cards/").content.decode()
    assert "Backup question" in page and "Hoogendijk" in page
    response = client.post(
        f"/call-cards/{card.public_id}/ticket/",
        {"type": "information_request", "impact": "low", "urgency": "low"},
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert "Backup question" not in client.get("/call-cards/").content.decode()


def test_monitoring_opens_an_incident_for_the_engineer_on_call(
    personas: Personas, token_client
) -> None:
    now = datetime.now(UTC)
    OnCallShift.objects.create(
        user=personas.sr, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=8)
    )
    client = token_client("monitoring:write")
    alert = {
        "host": "web01",
        "service": "http",
        "severity": "critical",
        "summary": "HTTP 502",
        "customer": "1000",
    }
    first = client.post("/api/v1/monitoring/alerts/", alert, format="json")
    assert first.status_code == 201 and first.json()["assignee"] == "sr"
    ticket = Ticket.objects.get(number=first.json()["ticket"])
    assert (ticket.channel, ticket.type, ticket.priority, ticket.customer) == (
        "monitoring",
        "incident",
        1,
        personas.customer,
    )
    again = client.post(
        "/api/v1/monitoring/alerts/", {**alert, "summary": "still 502"}, format="json"
    )
    assert again.status_code == 200 and again.json()["ticket"] == ticket.number
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 2
    send_notifications()
    on_call_mail = [m for m in mail.outbox if m.to == [personas.sr.email]]
    assert len(on_call_mail) == 1 and str(ticket.number) in str(on_call_mail[0].subject)
    bad = client.post("/api/v1/monitoring/alerts/", {**alert, "severity": "meh"}, format="json")
    assert bad.status_code == 400 and "severity" in bad.json()


def test_a_resolved_alert_ticket_means_the_next_alert_opens_a_new_one(personas: Personas) -> None:
    from tickets.channel_services import monitoring_alert_receive
    from tickets.services import ticket_transition

    first, created = monitoring_alert_receive(
        host="db1", service="disk", severity="warning", summary="90%", actor=None, now=WED_10
    )
    assert created and first.needs_triage  # no customer given: triage
    ticket_transition(
        ticket=first,
        to="resolved",
        resolution="solved",
        actor=personas.jr,
        now=WED_10,
        cause_code=CauseCode.objects.get(code="hardware"),
    )
    second, created = monitoring_alert_receive(
        host="db1", service="disk", severity="warning", summary="91%", actor=None, now=WED_10
    )
    assert created and second.pk != first.pk
