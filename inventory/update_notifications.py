"""Mails caused by update events: the customer is informed before (the
appointment, the expected downtime, the request to approve it), after (done,
how it went) and when an announced update failed and will be rescheduled."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from events.models import Event
from events.notify import Mail, notifier
from inventory.models import MachineUpdate, UpdateStatus

# A failure is news to the customer once the appointment was announced.
_ANNOUNCED = {
    UpdateStatus.SCHEDULED,
    UpdateStatus.APPROVED,
    UpdateStatus.TESTED,
    UpdateStatus.INSTALLED,
    UpdateStatus.VERIFIED,
}


def _portal_url(number: str) -> str:
    try:
        return settings.SITE_URL + reverse("portal:update-detail", args=[number])
    except NoReverseMatch:  # the portal's Network pages are not mounted (yet)
        return settings.SITE_URL + "/portal/"


def _local(value: str | None) -> str:
    moment = parse_datetime(value) if value else None
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def _customer_mails(update: MachineUpdate, template: str, context: dict[str, Any]) -> list[Mail]:
    """Every active user of the machine's customer, and the customer's contact
    address when no user has it; each address once."""
    customer = update.item.customer
    if customer is None:
        return []
    mails: dict[str, Mail] = {}
    for user in customer.users.filter(is_active=True).order_by("username"):
        if user.email and user.email.lower() not in mails:
            mails[user.email.lower()] = Mail(
                recipient=user.email,
                template=template,
                context=context,
                language=user.language or settings.LANGUAGE_CODE,
            )
    if customer.email and customer.email.lower() not in mails:
        mails[customer.email.lower()] = Mail(
            recipient=customer.email,
            template=template,
            context=context,
            language=settings.LANGUAGE_CODE,
        )
    return list(mails.values())


@notifier("update.transition")
def update_customer_informed(event: Event) -> list[Mail]:
    if event.to_state == UpdateStatus.SCHEDULED:
        template = "update-before"
    elif event.to_state == UpdateStatus.DONE:
        template = "update-after"
    elif event.to_state == UpdateStatus.FAILED and event.from_state in _ANNOUNCED:
        template = "update-failed"
    else:
        return []
    update = (
        MachineUpdate.objects.select_related("item__customer").filter(pk=event.object_id).first()
    )
    if update is None:
        return []
    # The appointment as announced in this event, not as it may be by now.
    appointment = _local(event.data.get("appointment_at")) or (
        f"{timezone.localtime(update.appointment_at):%Y-%m-%d %H:%M}"
        if update.appointment_at
        else ""
    )
    context = {
        "number": update.number or "",
        "hostname": update.item.reference,
        "software": update.software,
        "current_version": update.current_version,
        "new_version": update.new_version,
        "appointment": appointment,
        "until": _local(event.data.get("window_end")),
        "downtime": str(update.downtime_minutes or "") if update.causes_downtime else "",
        "rescheduled": "yes" if event.reason else "",
        "how_done": update.how_done if event.to_state == UpdateStatus.DONE else "",
        "reason": event.reason if event.to_state == UpdateStatus.FAILED else "",
        "url": _portal_url(update.number or ""),
    }
    return _customer_mails(update, template, context)
