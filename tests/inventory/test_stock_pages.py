"""The stock pages: the overview per location, products with their ledger,
purchase orders with receiving, and stock counts. Lists cost the same number
of queries however much is in them; customers get 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import (
    ConfigurationItem,
    CountStatus,
    MovementKind,
    OrderStatus,
    PurchaseOrder,
    StockCount,
    StockMovement,
)
from inventory.stock_services import stock_count_create, stock_receive
from tests.base import Personas
from tests.inventory.test_stock import (
    NOW,
    first_line,
    level,
    order,
    place,
    product,
    server,
    stock,
    supplier,
)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- Overview and products -----------------------------------------------------------


def test_the_overview_shows_stock_and_value_per_location(personas: Personas) -> None:
    disk = product(reorder_level=5)
    stock(personas, disk, "mls", 3)
    stock(personas, product("cat6", unit_price="3.50"), "ams1", 10)
    html = page(logged_in(personas.jr), "/network/stock/")
    assert "Maassluis office" in html and "Amsterdam datacenter AMS1" in html
    assert "540.00" in html  # 3 x 180.00
    assert "35.00" in html  # 10 x 3.50
    assert "At or below the reorder level" in html
    only = page(logged_in(personas.jr), "/network/stock/?location=ams1")
    assert 'id="loc-ams1"' in only and 'id="loc-mls"' not in only


def test_the_overview_costs_the_same_for_more_stock(personas: Personas) -> None:
    client = logged_in(personas.jr)
    stock(personas, product(), "mls", 1)
    order(personas, [(product("ram-32g"), 1)])
    client.get("/network/stock/")
    with CaptureQueriesContext(connection) as few:
        client.get("/network/stock/")
    for n in range(10):
        item = product(f"part-{n}", reorder_level=20)
        stock(personas, item, "mls", n + 1)
        stock(personas, item, "ams1", 1)
        order(personas, [(item, 2)], destination="ams1", customer=personas.customer)
    with CaptureQueriesContext(connection) as many:
        assert "part-9" in page(client, "/network/stock/")
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "url",
    [
        "/network/stock/",
        "/network/stock/products/",
        "/network/stock/products/ssd-960/",
        "/network/stock/orders/",
        "/network/stock/counts/",
    ],
)
def test_customers_do_not_see_stock(personas: Personas, url: str) -> None:
    product()
    assert logged_in(personas.customer_user).get(url).status_code == 404


def test_the_product_list_costs_the_same_for_more_products(personas: Personas) -> None:
    client = logged_in(personas.jr)
    stock(personas, product(), "mls", 1)
    client.get("/network/stock/products/")
    with CaptureQueriesContext(connection) as few:
        client.get("/network/stock/products/")
    for n in range(10):
        stock(personas, product(f"part-{n}"), "ams1", 2)
    with CaptureQueriesContext(connection) as many:
        assert "part-9" in page(client, "/network/stock/products/")
    assert len(many) == len(few)


def test_the_product_page_shows_levels_ledger_and_machines(personas: Personas) -> None:
    box = server()
    line = first_line(order(personas, [(box, 3)], destination="ams1", customer=personas.customer))
    stock_receive(line=line, quantity=2, actor=personas.sr, now=NOW, serial_numbers=["CZ1", "CZ2"])
    html = page(logged_in(personas.jr), "/network/stock/products/srv-r650/")
    assert "Machines in stock" in html and "CZ1" in html and "CZ2" in html
    assert "Amsterdam datacenter AMS1" in html
    assert str(line.order.number) in html  # on order, and in the ledger
    assert logged_in(personas.jr).get("/network/stock/products/nothing/").status_code == 404


def test_the_ledger_costs_the_same_for_more_movements(personas: Personas) -> None:
    client = logged_in(personas.jr)
    disk = product()
    stock(personas, disk, "mls", 1)
    client.get("/network/stock/products/ssd-960/")
    with CaptureQueriesContext(connection) as few:
        client.get("/network/stock/products/ssd-960/")
    for _n in range(6):
        stock(personas, disk, "mls", 1)
        line = first_line(order(personas, [(disk, 1)], customer=personas.customer))
        stock_receive(line=line, quantity=1, actor=personas.jr, now=NOW)
    with CaptureQueriesContext(connection) as many:
        client.get("/network/stock/products/ssd-960/")
    assert len(many) == len(few)


def test_an_it_manager_creates_and_edits_a_product(personas: Personas) -> None:
    supplier()
    client = logged_in(personas.itm)
    assert client.get("/network/stock/products/new/").status_code == 200
    response = client.post(
        "/network/stock/products/new/",
        {
            "sku": "dac-3m",
            "name": "DAC cable 3 m",
            "kind": "consumable",
            "item_kind": "",
            "unit_price": "35.00",
            "reorder_level": "10",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/network/stock/products/dac-3m/"
    response = client.post(
        "/network/stock/products/dac-3m/edit/",
        {
            "name": "DAC cable 25G 3 m",
            "kind": "consumable",
            "unit_price": "32.00",
            "reorder_level": "12",
            "active": "on",
        },
    )
    assert response.status_code == 302
    html = page(client, "/network/stock/products/dac-3m/")
    assert "DAC cable 25G 3 m" in html and "product.changed" in html
    assert logged_in(personas.jr).get("/network/stock/products/new/").status_code == 403


def test_stock_is_issued_and_moved_from_the_product_page(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 5)
    client = logged_in(personas.sr)
    response = client.post(
        "/network/stock/products/ssd-960/issue/",
        {"location": "mls", "quantity": "2", "customer": "1000", "note": "web01 RAID"},
    )
    assert response.status_code == 302
    response = client.post(
        "/network/stock/products/ssd-960/transfer/",
        {"source": "mls", "destination": "ams1", "quantity": "1"},
    )
    assert response.status_code == 302
    assert (level(disk, "mls"), level(disk, "ams1")) == (2, 1)
    too_many = client.post(
        "/network/stock/products/ssd-960/issue/", {"location": "mls", "quantity": "9"}
    )
    assert too_many.status_code == 400
    assert "Not enough stock of ssd-960" in too_many.content.decode()
    assert level(disk, "mls") == 2


# --- Orders and receiving ------------------------------------------------------------


def test_the_order_list_costs_the_same_for_more_orders(personas: Personas) -> None:
    client = logged_in(personas.jr)
    disk = product()
    order(personas, [(disk, 1)])
    client.get("/network/stock/orders/")
    with CaptureQueriesContext(connection) as few:
        client.get("/network/stock/orders/")
    for _n in range(10):
        order(personas, [(disk, 2), (product(f"p{_n}"), 1)], customer=personas.customer)
    with CaptureQueriesContext(connection) as many:
        html = page(client, "/network/stock/orders/")
    assert html.count('href="/network/stock/orders/PO-') == 11
    assert len(many) == len(few)
    assert "PO-0" in page(client, "/network/stock/orders/?status=all")


def test_a_senior_engineer_places_an_order_on_the_page(personas: Personas) -> None:
    supplier()
    disk, memory = product(), product("ram-32g")
    client = logged_in(personas.sr)
    assert client.get("/network/stock/orders/new/").status_code == 200
    data = {
        "supplier": str(supplier().pk),
        "destination": "ams1",
        "customer": "1000",
        "expected_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "notes": "",
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-product": "ssd-960",
        "lines-0-quantity": "4",
        "lines-0-unit_price": "",
        "lines-1-product": "ram-32g",
        "lines-1-quantity": "2",
        "lines-1-unit_price": "130.00",
    }
    response = client.post("/network/stock/orders/new/", data)
    assert response.status_code == 302, response.content.decode()
    created = PurchaseOrder.objects.get()
    assert response["Location"] == f"/network/stock/orders/{created.number}/"
    assert sorted(created.lines.values_list("product__sku", "quantity", "unit_price")) == [
        ("ram-32g", 2, memory.unit_price.__class__("130.00")),
        ("ssd-960", 4, disk.unit_price),
    ]
    no_lines = {
        **data,
        "lines-0-product": "",
        "lines-0-quantity": "",
        "lines-1-product": "",
        "lines-1-quantity": "",
    }
    refused = client.post("/network/stock/orders/new/", no_lines)
    assert refused.status_code == 400
    assert "An order needs at least one line." in refused.content.decode()
    assert logged_in(personas.jr).get("/network/stock/orders/new/").status_code == 403


def test_receiving_part_of_a_line_on_the_page(personas: Personas) -> None:
    disk = product()
    purchase = order(personas, [(disk, 5)])
    line = first_line(purchase)
    client = logged_in(personas.jr)
    html = page(client, f"/network/stock/orders/{purchase.number}/")
    url = f"/network/stock/orders/{purchase.number}/lines/{line.pk}/receive/"
    assert url in html
    assert "Ordered 5, received 0, still to come 5." in page(client, url)
    response = client.post(url, {"quantity": "2", "location": "mls", "customer": ""})
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert (purchase.status, level(disk, "mls")) == (OrderStatus.PARTIAL, 2)
    assert "2 received at Maassluis office by Jr" in page(
        client, f"/network/stock/orders/{purchase.number}/"
    )
    over = client.post(url, {"quantity": "4", "location": "mls"})
    assert over.status_code == 400
    assert "Only 3 of this line are still to be received." in over.content.decode()
    datacenter = client.post(url, {"quantity": "1", "location": "ams1", "customer": "1000"})
    assert datacenter.status_code == 400
    assert "Only senior engineers receive goods in a datacenter." in datacenter.content.decode()
    other = f"/network/stock/orders/{purchase.number}/lines/{line.pk + 999}/receive/"
    assert client.get(other).status_code == 404


def test_received_servers_are_listed_on_the_order(personas: Personas) -> None:
    box = server()
    purchase = order(personas, [(box, 2)], destination="ams1", customer=personas.customer)
    url = f"/network/stock/orders/{purchase.number}/lines/{first_line(purchase).pk}/receive/"
    client = logged_in(personas.sr)
    response = client.post(
        url, {"quantity": "2", "location": "ams1", "customer": "1000", "serial_numbers": "CZA\nCZB"}
    )
    assert response.status_code == 302
    html = page(client, f"/network/stock/orders/{purchase.number}/")
    assert "Machines received" in html and "CZA" in html and "CZB" in html
    assert ConfigurationItem.objects.filter(product=box, status="in_stock").count() == 2


# --- Counts ---------------------------------------------------------------------------


def test_a_count_is_assigned_recorded_and_closed_on_the_pages(personas: Personas) -> None:
    disk, memory = product(), product("ram-32g")
    stock(personas, disk, "mls", 10)
    stock(personas, memory, "mls", 4)
    manager = logged_in(personas.itm)
    assert "Assign a count" in page(manager, "/network/stock/counts/")
    response = manager.post(
        "/network/stock/counts/new/",
        {"location": "mls", "controller": "jr", "due_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    count = StockCount.objects.get()
    assert response["Location"] == f"/network/stock/counts/{count.pk}/"
    assert "Assign a count" not in page(logged_in(personas.jr), "/network/stock/counts/")
    controller = logged_in(personas.jr)
    html = page(controller, f"/network/stock/counts/{count.pk}/")
    assert 'name="counted-ssd-960"' in html
    assert "Save and close the count" in html
    stranger = logged_in(personas.sr)
    assert 'name="counted-ssd-960"' not in page(stranger, f"/network/stock/counts/{count.pk}/")
    record = f"/network/stock/counts/{count.pk}/record/"
    assert stranger.post(record, {"counted-ssd-960": "1"}).status_code == 403
    response = controller.post(
        record, {"counted-ssd-960": "9", "counted-ram-32g": "4", "close": "1"}
    )
    assert response.status_code == 302
    count.refresh_from_db()
    assert count.status == CountStatus.DONE
    assert level(disk, "mls") == 9
    assert StockMovement.objects.filter(kind=MovementKind.COUNT, quantity=-1).exists()
    html = page(controller, f"/network/stock/counts/{count.pk}/")
    assert "-1" in html and "stock_count.closed" in html


def test_the_count_task_links_to_the_count(personas: Personas) -> None:
    stock(personas, product(), "mls", 1)
    count = stock_count_create(
        location=place("mls"),
        controller=personas.jr,
        due_on=NOW.date(),
        actor=personas.itm,
        now=NOW,
    )
    html = page(logged_in(personas.jr), f"/tasks/{count.task.public_id}/")  # type: ignore[union-attr]
    assert f'href="/network/stock/counts/{count.pk}/"' in html


def test_the_count_list_costs_the_same_for_more_counts(personas: Personas) -> None:
    client = logged_in(personas.itm)
    disk = product()
    for code in ("mls", "ams1", "ams2"):
        stock(personas, disk, code, 1)
    stock_count_create(
        location=place("mls"),
        controller=personas.jr,
        due_on=NOW.date(),
        actor=personas.itm,
        now=NOW,
    )
    client.get("/network/stock/counts/")
    with CaptureQueriesContext(connection) as few:
        client.get("/network/stock/counts/")
    for code in ("ams1", "ams2"):
        stock_count_create(
            location=place(code),
            controller=personas.sr,
            due_on=NOW.date(),
            actor=personas.itm,
            now=NOW,
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/network/stock/counts/")
    assert len(many) == len(few)
