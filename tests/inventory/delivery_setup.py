"""Deliveries the delivery tests share, built through the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.test import Client

from inventory.delivery_services import (
    delivery_customer_accept,
    delivery_machine_register,
    delivery_request,
    delivery_step_record,
)
from inventory.item_services import ip_address_add, software_set
from inventory.models import Delivery, DeliveryStepName, Location
from tests.base import Personas

NOW = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
WANTED = date(2026, 3, 31)
S = DeliveryStepName
# A value that must never appear in a document, a letter or a mail.
SERVER_PASSWORD = "Vq9-unique-Server-Password-4471"


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def request(personas: Personas, **overrides: Any) -> Delivery:
    """A sales hand-over of a VMware VPS for customer 1000."""
    values: dict[str, Any] = {
        "customer": personas.customer,
        "origin": "handover",
        "requested_by": personas.sales,
        "server_kind": "virtual",
        "hypervisor": "vmware",
        "os_name": "Debian 12",
        "webserver": "nginx",
        "database": "PostgreSQL 17",
        "firewall": "nftables",
        "contacts": "Kees Hoogendijk <kees@hoogendijk.example>\nIT desk <it@hoogendijk.example>",
        "wanted_on": WANTED,
        "order_reference": "",
        "notes": "Quote Q-1001",
        "now": NOW,
    }
    values.update(overrides)
    return delivery_request(**values)


def register(personas: Personas, delivery: Delivery, now: datetime, **fields: Any) -> Delivery:
    values: dict[str, Any] = {
        "hostname": "vps21.hoogendijk.example",
        "machine_type": "VMware VM, 4 vCPU",
        "location": Location.objects.get(code="ams1"),
        "rack": "B3",
    }
    values.update(fields)
    delivery = delivery_machine_register(
        delivery=delivery, actor=personas.sr, now=now, password=SERVER_PASSWORD, **values
    )
    assert delivery.item is not None
    ip_address_add(item=delivery.item, address="203.0.113.21", actor=personas.sr, now=now)
    software_set(item=delivery.item, name="nginx", version="1.26.2", actor=personas.sr, now=now)
    return delivery


def to_customer_test(personas: Personas, delivery: Delivery | None = None) -> Delivery:
    """A virtual delivery up to the customer account: waiting for the customer."""
    delivery = delivery or request(personas)
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=personas.sr, now=at(1))
    register(personas, delivery, at(2))
    for hours, step in enumerate(
        [S.OS_INSTALLED, S.SOFTWARE_INSTALLED, S.CONFIGURED, S.TESTED, S.CUSTOMER_ACCOUNT],
        start=3,
    ):
        delivery_step_record(delivery=delivery, step=step, actor=personas.sr, now=at(hours))
    delivery.refresh_from_db()
    return delivery


def accepted(personas: Personas) -> Delivery:
    delivery = to_customer_test(personas)
    delivery_customer_accept(delivery=delivery, actor=personas.customer_user, now=at(24))
    delivery_step_record(delivery=delivery, step=S.DOCUMENTED, actor=personas.sr, now=at(25))
    delivery.refresh_from_db()
    return delivery
