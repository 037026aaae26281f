"""Mails caused by CAB events."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.roles import Role
from accounts.selectors import users_in_role
from events.models import Event
from events.notify import Mail, notifier


@notifier("cab.agenda")
def cab_agenda(event: Event) -> list[Mail]:
    """The agenda as it was when claimed (kept in the event) goes to every CAB
    member and the change manager; someone holding both roles gets one mail."""
    starts_at = parse_datetime(event.data["starts_at"])
    context = {
        "starts_at": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M %Z")
        if starts_at
        else "",
        "changes": event.data.get("changes", []),
        "url": settings.SITE_URL + reverse("cab"),
    }
    people = {
        user.pk: user
        for role in (Role.CAB_MEMBER, Role.CHANGE_MANAGER)
        for user in users_in_role(role)
    }
    return [
        Mail(
            recipient=user.email,
            template="cab-agenda",
            context=context,
            language=user.language or settings.LANGUAGE_CODE,
        )
        for user in sorted(people.values(), key=lambda u: u.username)
        if user.email
    ]


@notifier("change.transition")
def change_decided(event: Event) -> list[Mail]:
    """A decision on a change: the requester gets the execution back (or the
    argumentation), and the customer is told whether and when it will happen."""
    from changes.models import Change

    if event.to_state not in ("approved", "rejected"):
        return []
    change = Change.objects.select_related("requester", "customer").get(pk=event.object_id)
    window = ""
    if change.planned_start and change.planned_end:
        start, end = (
            timezone.localtime(change.planned_start),
            timezone.localtime(change.planned_end),
        )
        window = f"{start:%Y-%m-%d %H:%M} - {end:%H:%M}"
    context = {
        "number": change.number or "",
        "subject": change.subject,
        "approved": "yes" if event.to_state == "approved" else "",
        "window": window,
        "argumentation": change.argumentation,
        "alternatives": change.alternatives,
    }
    mails: list[Mail] = []
    requester = change.requester
    if requester is not None and requester.email:
        mails.append(
            Mail(
                recipient=requester.email,
                template="change-decided",
                context=context,
                language=requester.language or settings.LANGUAGE_CODE,
            )
        )
    customer_address = change.customer.email if change.customer else ""
    if customer_address and not (requester and requester.email == customer_address):
        mails.append(
            Mail(
                recipient=customer_address,
                template="change-decided",
                context=context,
                language=settings.LANGUAGE_CODE,
            )
        )
    return mails
