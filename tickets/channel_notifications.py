"""Mails of the monitoring channel."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from events.models import Event
from events.notify import Mail, notifier
from tickets.models import Ticket


@notifier("ticket.monitoring_alert")
def alert_to_on_call(event: Event) -> list[Mail]:
    """A monitoring incident goes to the engineer on standby at that moment."""
    engineer = User.objects.filter(username=event.data.get("on_call") or None).first()
    if engineer is None or not engineer.email:
        return []
    ticket = Ticket.objects.get(pk=event.object_id)
    return [
        Mail(
            recipient=engineer.email,
            template="monitoring-alert",
            context={
                "number": ticket.number or "",
                "subject": ticket.subject,
                "priority": str(ticket.priority),
                "url": settings.SITE_URL + reverse("ticket-detail", args=[ticket.number]),
            },
            language=engineer.language or settings.LANGUAGE_CODE,
        )
    ]
