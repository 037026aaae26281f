"""Receiving a delivery in a real browser: a senior engineer opens an open
purchase order, puts part of it away in AMS1 linked to the customer with the
servers' serial numbers, and sees the stock level and the new machines in
stock."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import ConfigurationItem, Location, OrderStatus, Product, Supplier
from inventory.stock_services import purchase_order_create
from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_senior_engineer_receives_part_of_a_delivery_in_amsterdam(page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    personas.sr.set_password(PASSWORD)  # personas only give the desk staff a password
    personas.sr.save()
    now = timezone.now()
    dell = Supplier.objects.create(name="Dell Technologies")
    server = Product.objects.create(
        sku="srv-r650",
        name="Dell PowerEdge R650",
        kind="server",
        item_kind="physical",
        unit_price=Decimal("6450.00"),
        supplier=dell,
    )
    disk = Product.objects.create(
        sku="ssd-960", name="SSD 960 GB", kind="part", unit_price=Decimal("180.00")
    )
    order = purchase_order_create(
        supplier=dell,
        destination=Location.objects.get(code="ams1"),
        customer=personas.customer,
        expected_on=timezone.localdate(now) + timedelta(days=2),
        lines=[(server, 3, server.unit_price), (disk, 4, disk.unit_price)],
        actor=personas.sr,
        now=now,
    )

    log_in(page, live_server, "sr")
    page.get_by_role("heading", name="My open tasks").wait_for()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stock").click()
    page.get_by_role("heading", name="Stock", level=1).wait_for()
    page.get_by_role("link", name=order.number).click()
    page.get_by_role("heading", name=re.compile(f"Purchase order {order.number}")).wait_for()
    page.get_by_role("link", name="Receive srv-r650").click()

    page.get_by_role("heading", name=re.compile("Receive srv-r650")).wait_for()
    assert page.get_by_label("Put away at").input_value() == "ams1"
    assert page.get_by_label("Customer number").input_value() == "1000"
    page.get_by_label("Quantity received").fill("2")
    page.get_by_label("Serial numbers").fill("CZ2R650A01\nCZ2R650A02")
    page.get_by_role("button", name="Register receipt").click()

    page.get_by_text("Received 2 of srv-r650 at Amsterdam datacenter AMS1.").wait_for()
    page.get_by_text("partially received").first.wait_for()
    machines = page.get_by_role("region", name="Machines received")
    machines.get_by_text("CZ2R650A01").wait_for()
    machines.get_by_text("CZ2R650A02").wait_for()
    lines = page.get_by_role("table", name="Lines")
    row = lines.locator("tr", has=page.get_by_role("link", name="srv-r650"))
    assert [cell.strip() for cell in row.locator("td").all_inner_texts()[1:4]] == ["3", "2", "1"]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stock").click()
    page.get_by_label("Location").select_option("ams1")
    page.get_by_role("button", name="Show").click()
    stock = page.get_by_role("table", name="Stock at Amsterdam datacenter AMS1")
    level = stock.locator("tr", has=page.get_by_role("link", name="srv-r650"))
    assert level.locator("td").nth(2).inner_text().strip() == "2"

    stock.get_by_role("link", name="srv-r650").click()
    in_stock = page.get_by_role("region", name="Machines in stock")
    in_stock.get_by_text("CZ2R650A01").wait_for()
    in_stock.get_by_text("CZ2R650A02").wait_for()

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIAL
    received = ConfigurationItem.objects.filter(product=server).order_by("serial_number")
    assert [(m.serial_number, m.status, m.location.code, m.customer) for m in received] == [  # type: ignore[union-attr]
        ("CZ2R650A01", "in_stock", "ams1", personas.customer),
        ("CZ2R650A02", "in_stock", "ams1", personas.customer),
    ]
