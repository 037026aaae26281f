"""Channels other than the portal and mail: call cards and monitoring alerts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Customer
from accounts.selectors import on_call_at
from events.services import actor_label, event_record
from tickets.models import CallCard, Channel, Ticket, TicketStatus, TicketType
from tickets.services import ticket_assign, ticket_create, ticket_message_add


def _digits(phone: str) -> str:
    """Phone numbers compared by their last nine digits, so +31 10 555 0100,
    0105550100 and 010-5550100 are one number."""
    return re.sub(r"\D", "", phone)[-9:]


def customer_for_call(*, number: str | None, phone: str) -> Customer | None:
    """The customer a call belongs to: by customer number when given and
    known, else by the phone number on record."""
    if number:
        customer = Customer.objects.filter(number=number.strip(), active=True).first()
        if customer is not None:
            return customer
    wanted = _digits(phone)
    if len(wanted) < 6:
        return None
    for customer in Customer.objects.filter(active=True).exclude(phone="").only("id", "phone"):
        if _digits(customer.phone) == wanted:
            return Customer.objects.get(pk=customer.pk)
    return None


@transaction.atomic
def call_card_create(
    *,
    phone: str,
    summary: str,
    received_at: datetime,
    actor: Any,
    now: datetime,
    customer_number: str | None = None,
    caller: str = "",
) -> CallCard:
    errors = {}
    if not re.search(r"\d{3,}", phone or ""):
        errors["phone"] = _("Give the caller's phone number.")
    if not summary.strip():
        errors["summary"] = _("Summarise the call.")
    if received_at > now:
        errors["received_at"] = _("A call cannot be received in the future.")
    if errors:
        raise ValidationError(errors)
    card = CallCard.objects.create(
        phone=phone.strip(),
        customer=customer_for_call(number=customer_number, phone=phone),
        caller=caller.strip(),
        summary=summary.strip(),
        received_at=received_at,
        taken_by=actor if getattr(actor, "_meta", None) is not None else None,
        taken_by_label=actor_label(actor),
    )
    event_record(obj=card, kind="callcard.created", actor=actor, now=now)
    return card


@transaction.atomic
def call_card_to_ticket(
    *,
    card: CallCard,
    subject: str,
    type: str,
    impact: str,
    urgency: str,
    actor: Any,
    now: datetime,
    customer: Customer | None = None,
) -> Ticket:
    """A call card becomes a ticket with channel phone, once."""
    card = CallCard.objects.select_for_update().get(pk=card.pk)
    if card.ticket_id is not None:
        raise ValidationError({"card": _("This call is a ticket already.")})
    customer = customer or card.customer
    if customer is None:
        raise ValidationError({"customer": _("Say which customer called.")})
    caller = f"{card.caller} ({card.phone})" if card.caller else card.phone
    ticket = ticket_create(
        customer=customer,
        subject=subject or card.summary.splitlines()[0][:200],
        message=_("Call from %(caller)s at %(at)s:") % {"caller": caller, "at": card.received_at}
        + "\n\n"
        + card.summary,
        type=type,
        channel=Channel.PHONE,
        impact=impact,
        urgency=urgency,
        actor=actor,
        now=now,
    )
    card.ticket, card.customer = ticket, customer
    card.save(update_fields=["ticket", "customer"])
    return ticket


SEVERITY = {"critical": ("high", "high"), "warning": ("medium", "medium"), "info": ("low", "low")}


@transaction.atomic
def monitoring_alert_receive(
    *,
    host: str,
    service: str,
    severity: str,
    summary: str,
    actor: Any,
    now: datetime,
    customer_number: str | None = None,
) -> tuple[Ticket, bool]:
    """An alert from monitoring: an incident for the host and check, assigned
    to the engineer on call (who is mailed); while that incident is open,
    repeated alerts are added to it instead of opening new ones.
    Returns (ticket, created)."""
    if severity not in SEVERITY:
        raise ValidationError({"severity": _("Use critical, warning or info.")})
    if not host.strip() or not service.strip():
        raise ValidationError({"host": _("Give the host and the check.")})
    key = f"monitoring:{host.strip().lower()}/{service.strip().lower()}"[:200]
    open_ticket = (
        Ticket.objects.select_for_update()
        .filter(external_ref=key)
        .exclude(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED])
        .first()
    )
    text = f"{severity.upper()} {host} {service}: {summary}".strip()
    if open_ticket is not None:
        ticket_message_add(ticket=open_ticket, body=text, public=False, actor=actor, now=now)
        return open_ticket, False
    customer = None
    if customer_number:
        customer = Customer.objects.filter(number=customer_number, active=True).first()
    impact, urgency = SEVERITY[severity]
    ticket = ticket_create(
        customer=customer,
        subject=f"{host} {service}: {summary}"[:200],
        message=text,
        type=TicketType.INCIDENT,
        channel=Channel.MONITORING,
        category="hardware",
        impact=impact,
        urgency=urgency,
        actor=actor,
        now=now,
    )
    Ticket.objects.filter(pk=ticket.pk).update(external_ref=key)
    engineer = on_call_at(moment=now)
    if engineer is not None:
        ticket = ticket_assign(ticket=ticket, assignee=engineer, actor=actor, now=now)
    event_record(
        obj=ticket,
        kind="ticket.monitoring_alert",
        actor=actor,
        now=now,
        data={"on_call": engineer.username if engineer else "", "key": key},
    )
    return ticket, True
