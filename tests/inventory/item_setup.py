"""Configuration items the item tests share, built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.test import Client

from inventory.item_services import ip_address_add, item_create, secret_store, software_set
from inventory.models import ConfigurationItem, ItemStatus, Location, SoftwareRelease
from tests.base import Personas

NOW = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
# A value that must never appear anywhere but on the reveal page.
ROOT_PASSWORD = "Xq7-unique-Root-Secret-9931"


@dataclass
class Items:
    web01: ConfigurationItem  # customer 1000, ams1, with a secret
    shop: ConfigurationItem  # customer 2000
    spare: ConfigurationItem  # in stock, serial number only


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def make_items(personas: Personas) -> Items:
    SoftwareRelease.objects.create(name="nginx", version="1.26.2", registered_at=NOW)
    ams1 = Location.objects.get(code="ams1")
    web01 = item_create(
        actor=personas.sr,
        now=NOW,
        hostname="web01.hoogendijk.example",
        serial_number="CZ2301A7K1",
        kind="physical",
        machine_type="Dell PowerEdge R650",
        customer=personas.customer,
        location=ams1,
        rack="A12",
        os_name="Ubuntu",
        os_version="22.04",
        status=ItemStatus.IN_PRODUCTION,
        notes="Internal: fan replaced",
    )
    ip_address_add(item=web01, address="185.52.224.11", actor=personas.sr, now=NOW)
    ip_address_add(item=web01, address="10.10.0.11", actor=personas.sr, now=NOW)
    software_set(item=web01, name="nginx", version="1.24.0", actor=personas.sr, now=NOW)
    secret_store(item=web01, label="root password", value=ROOT_PASSWORD, actor=personas.sr, now=NOW)
    shop = item_create(
        actor=personas.sr,
        now=NOW,
        hostname="shop.korenschoof.example",
        kind="vps_hyperv",
        customer=personas.other_customer,
        location=ams1,
        os_name="Debian",
        os_version="12",
        status=ItemStatus.INSTALLED,
    )
    ip_address_add(item=shop, address="185.52.224.40", actor=personas.sr, now=NOW)
    spare = item_create(
        actor=personas.sr,
        now=NOW,
        serial_number="CZ2405B9Q3",
        kind="physical",
        machine_type="Dell PowerEdge R660",
        location=Location.objects.get(code="mls"),
    )
    return Items(web01=web01, shop=shop, spare=spare)
