"""Mails caused by ticket and task events."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.selectors import users_in_role
from events.models import Event
from events.notify import Mail, mails_to, notifier
from tickets.models import Channel, Message, Task, Ticket


def _task_context(task: Task, event: Event) -> dict[str, str]:
    return {
        "title": task.title,
        "actor": event.actor_label,
        "remark": event.reason,
        "url": settings.SITE_URL + reverse("task-detail", args=[task.public_id]),
    }


@notifier("task.created")
def task_assigned(event: Event) -> list[Mail]:
    task = Task.objects.select_related("assignee").get(pk=event.object_id)
    if event.actor_id == task.assignee_id:
        return []
    return [
        Mail(
            recipient=task.assignee.email,
            template="task-assigned",
            context=_task_context(task, event),
            language=task.assignee.language or settings.LANGUAGE_CODE,
        )
    ]


@notifier("task.closed")
def task_closed(event: Event) -> list[Mail]:
    """Closing a task tells its creator, unless the creator closed it."""
    task = Task.objects.select_related("creator").get(pk=event.object_id)
    if task.creator is None or event.actor_id == task.creator_id:
        return []
    return [
        Mail(
            recipient=task.creator.email,
            template="task-closed",
            context=_task_context(task, event),
            language=task.creator.language or settings.LANGUAGE_CODE,
        )
    ]


# --- Tickets --------------------------------------------------------------------


def _ticket(event: Event) -> Ticket:
    return Ticket.objects.select_related("assignee", "customer", "requester").get(
        pk=event.object_id
    )


def _ticket_context(ticket: Ticket, event: Event) -> dict[str, str]:
    return {
        "number": ticket.number or "",
        "subject": ticket.subject,
        "customer": str(ticket.customer or ticket.reply_to),
        "priority": str(ticket.priority),
        "actor": event.actor_label,
        "reason": event.reason,
        "target": str(event.data.get("target", "")),
        "until": str(event.data.get("until", "")),
        "resolution": str(event.data.get("resolution", "")),
        "url": settings.SITE_URL + reverse("ticket-detail", args=[ticket.number]),
    }


def _to_customer(ticket: Ticket, template: str, context: dict[str, str]) -> list[Mail]:
    """The requester when known, else the address the ticket came from by
    mail, else the customer's contact address. The link is the portal's page
    of the ticket (the staff page is closed to customers); a ticket without a
    customer has no portal page, so it gets none."""
    portal = reverse("portal:ticket-detail", args=[ticket.number]) if ticket.customer else ""
    context = {**context, "url": settings.SITE_URL + portal if portal else ""}
    if ticket.requester and ticket.requester.email:
        return mails_to([ticket.requester], template, context)
    address = ticket.reply_to or (ticket.customer.email if ticket.customer else "")
    if address:
        return [
            Mail(
                recipient=address,
                template=template,
                context=context,
                language=settings.LANGUAGE_CODE,
            )
        ]
    return []


def _local_time(moment: Any) -> str:
    """A due time as the customer reads it: local, to the minute, with the zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


@notifier("ticket.created")
def ticket_acknowledged(event: Event) -> list[Mail]:
    """The customer side hears that the ticket exists, under which number, and
    by when the first answer is due. Monitoring tickets have no customer
    behind them who wrote in, so they are not acknowledged. (Auto-replies never
    become tickets, so they cannot set off an acknowledgement loop.)"""
    if event.data.get("channel") == Channel.MONITORING:
        return []
    ticket = _ticket(event)
    if ticket.channel == Channel.MONITORING:
        return []
    context = {
        **_ticket_context(ticket, event),
        "response_due": _local_time(ticket.response_due_at),
    }
    return _to_customer(ticket, "ticket-created", context)


@notifier("ticket.message")
def ticket_message(event: Event) -> list[Mail]:
    """A public staff reply goes to the customer side with its text; a
    customer's message to the assignee (nobody while unassigned); an internal
    note to nobody."""
    if not event.data.get("public"):
        return []
    message = Message.objects.select_related("author").filter(pk=event.data.get("message")).first()
    if message is None or not message.public:
        return []
    ticket = _ticket(event)
    context = {
        **_ticket_context(ticket, event),
        # Staff sign with their name; a customer's label is their mail address.
        "author": (message.author.get_full_name() if message.author else "")
        or message.author_label,
        "message": message.body,
    }
    if event.data.get("from_customer"):
        people = [ticket.assignee] if ticket.assignee else []
        return mails_to(people, "ticket-customer-reply", context)
    return _to_customer(ticket, "ticket-reply", context)


@notifier("ticket.sla_warning")
def sla_warning(event: Event) -> list[Mail]:
    """At the warning point the assignee (or, unassigned, the heads) hears of it."""
    ticket = _ticket(event)
    people = [ticket.assignee] if ticket.assignee else list(users_in_role(Role.HEAD_OF_DEPARTMENT))
    return mails_to(people, "sla-warning", _ticket_context(ticket, event))


@notifier("ticket.sla_breached")
def sla_breached(event: Event) -> list[Mail]:
    ticket = _ticket(event)
    people = users_in_role(Role.HEAD_OF_DEPARTMENT) | users_in_role(Role.IT_MANAGER)
    return mails_to(people.distinct(), "sla-breached", _ticket_context(ticket, event))


@notifier("ticket.extension_requested")
def extension_requested(event: Event) -> list[Mail]:
    ticket = _ticket(event)
    return mails_to(
        users_in_role(Role.IT_MANAGER), "extension-requested", _ticket_context(ticket, event)
    )


@notifier("ticket.extension_approved")
def extension_approved(event: Event) -> list[Mail]:
    """The customer is told of the new appointment; the assignee of the decision."""
    ticket = _ticket(event)
    context = _ticket_context(ticket, event)
    mails = _to_customer(ticket, "extension-customer", context)
    if ticket.assignee:
        mails += mails_to([ticket.assignee], "extension-decided", {**context, "approved": "yes"})
    return mails


@notifier("ticket.extension_refused")
def extension_refused(event: Event) -> list[Mail]:
    ticket = _ticket(event)
    people = [ticket.assignee] if ticket.assignee else []
    return mails_to(people, "extension-decided", _ticket_context(ticket, event))


@notifier("ticket.escalation_requested")
def escalation_requested(event: Event) -> list[Mail]:
    ticket = _ticket(event)
    return mails_to(
        users_in_role(Role.HEAD_OF_DEPARTMENT),
        "escalation-requested",
        _ticket_context(ticket, event),
    )


@notifier("ticket.escalation_approved")
@notifier("ticket.escalation_refused")
def escalation_decided(event: Event) -> list[Mail]:
    ticket = _ticket(event)
    context = {
        **_ticket_context(ticket, event),
        "approved": "yes" if event.kind.endswith("approved") else "",
    }
    return mails_to([ticket.assignee] if ticket.assignee else [], "escalation-decided", context)


@notifier("ticket.transition")
def ticket_resolved(event: Event) -> list[Mail]:
    """The customer is told of the resolution and can confirm or reopen it."""
    if event.to_state != "resolved":
        return []
    ticket = _ticket(event)
    return _to_customer(ticket, "ticket-resolved", _ticket_context(ticket, event))
