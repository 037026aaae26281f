"""Mails caused by delivery events: the confirmation letter to the
customer's contacts, the customer's verdict on their test to the delivery
engineer, and "ready for your test" to the customer's portal users. (A new
request reaches the engineer as a task, mailed by the task notifier.)"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from accounts.roles import Role
from accounts.selectors import users_in_role
from events.models import Event
from events.notify import Mail, mails_to, notifier
from inventory.models import Delivery, DeliveryStatus


def _delivery(event: Event) -> Delivery:
    return Delivery.objects.select_related("customer", "engineer", "item").get(pk=event.object_id)


def _url(name: str, number: str) -> str:
    try:
        return settings.SITE_URL + reverse(name, args=[number])
    except NoReverseMatch:  # the portal pages are not mounted (yet)
        return settings.SITE_URL + "/portal/"


def _context(delivery: Delivery, event: Event) -> dict[str, Any]:
    from inventory.delivery_services import server_label

    return {
        "number": delivery.number or "",
        "customer": f"{delivery.customer.number} {delivery.customer.name}",
        "server": server_label(delivery),
        "machine": delivery.item.reference if delivery.item else "",
        "actor": event.actor.display_name() if event.actor else event.actor_label,
        "remarks": event.reason,
        "round": (event.data or {}).get("round", delivery.customer_test_rounds),
        "url": settings.SITE_URL + delivery.get_absolute_url(),
        "portal_url": _url("portal:delivery-detail", delivery.number or ""),
    }


def _engineers(delivery: Delivery) -> list[Any]:
    """The delivery's engineer; the heads of department while nobody has it."""
    if delivery.engineer is not None:
        return [delivery.engineer]
    return list(users_in_role(Role.HEAD_OF_DEPARTMENT))


@notifier("delivery.confirmed")
def confirmation_letter(event: Event) -> list[Mail]:
    """The letter to every address the confirmation was sent to."""
    from inventory.delivery_documents import letter_context

    delivery = _delivery(event)
    context = letter_context(delivery)
    return [
        Mail(
            recipient=address,
            template="delivery-confirmation",
            context=context,
            language=settings.LANGUAGE_CODE,
        )
        for address in (event.data or {}).get("recipients", [])
    ]


@notifier("delivery.customer_accepted")
def customer_accepted(event: Event) -> list[Mail]:
    delivery = _delivery(event)
    return mails_to(_engineers(delivery), "delivery-accepted", _context(delivery, event))


@notifier("delivery.customer_rejected")
def customer_rejected(event: Event) -> list[Mail]:
    delivery = _delivery(event)
    return mails_to(_engineers(delivery), "delivery-rejected", _context(delivery, event))


@notifier("delivery.status_changed")
def ready_for_test(event: Event) -> list[Mail]:
    """The customer's portal users hear when the environment waits for their test."""
    if event.to_state != DeliveryStatus.CUSTOMER_TEST:
        return []
    delivery = _delivery(event)
    users = delivery.customer.users.filter(is_active=True).order_by("username")
    return mails_to(users, "delivery-ready-for-test", _context(delivery, event))
