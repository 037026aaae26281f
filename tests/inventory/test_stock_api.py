"""The stock API (API.md, "Network"): products and purchase orders under
/api/v1/, token scopes inventory:read / inventory:write, 400 with the field on
bad input, 403 for customer users."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Product, PurchaseOrder
from inventory.stock_services import stock_receive
from tests.base import Personas
from tests.inventory.test_stock import first_line, order, product, stock, supplier

PRODUCT_FIELDS = {
    "sku",
    "name",
    "kind",
    "item_kind",
    "unit_price",
    "reorder_level",
    "supplier",
    "active",
    "total",
    "below_reorder_level",
    "levels",
}
ORDER_FIELDS = {
    "number",
    "status",
    "supplier",
    "destination",
    "customer",
    "expected_on",
    "ordered_by",
    "ordered_at",
    "received_at",
    "notes",
    "lines",
}


def as_user(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def order_body(**changes: Any) -> dict[str, Any]:
    return {
        "supplier": "Dell Technologies",
        "destination": "ams1",
        "customer": "1000",
        "expected_on": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "notes": "For the new shop",
        "lines": [{"product": "ssd-960", "quantity": 4, "unit_price": "175.00"}],
        **changes,
    }


# --- Products ---------------------------------------------------------------------


def test_products_list_with_their_stock(personas: Personas, token_client) -> None:
    disk = product(reorder_level=5)
    stock(personas, disk, "mls", 3)
    stock(personas, disk, "ams1", 1)
    response = token_client("inventory:read").get("/api/v1/products/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item.keys() == PRODUCT_FIELDS
    assert (item["sku"], item["total"], item["below_reorder_level"]) == ("ssd-960", 4, True)
    assert item["levels"] == [
        {"location": "ams1", "quantity": 1},
        {"location": "mls", "quantity": 3},
    ]
    assert (item["supplier"], item["unit_price"]) == ("Dell Technologies", "180.00")


def test_the_product_list_costs_the_same_for_many_products(
    personas: Personas, token_client
) -> None:
    client = token_client("inventory:read")
    stock(personas, product(), "mls", 1)
    client.get("/api/v1/products/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/products/").status_code == 200
    for n in range(10):
        item = product(f"part-{n}")
        stock(personas, item, "mls", n + 1)
        stock(personas, item, "ams1", 1)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/products/").json()["count"] == 11
    assert len(many) == len(few)


def test_products_filter_by_shortage(personas: Personas, token_client) -> None:
    short, plenty = product(reorder_level=5), product("cat6", reorder_level=5)
    stock(personas, short, "mls", 2)
    stock(personas, plenty, "mls", 50)
    client = token_client("inventory:read")
    below = client.get("/api/v1/products/?below_reorder_level=true").json()
    assert [p["sku"] for p in below["results"]] == ["ssd-960"]
    above = client.get("/api/v1/products/?below_reorder_level=false").json()
    assert [p["sku"] for p in above["results"]] == ["cat6"]
    assert client.get("/api/v1/products/?search=cat").json()["count"] == 1


def test_a_product_is_read_by_its_sku(personas: Personas, token_client) -> None:
    product()
    client = token_client("inventory:read")
    response = client.get("/api/v1/products/ssd-960/")
    assert (response.status_code, response.json()["sku"]) == (200, "ssd-960")
    assert client.get("/api/v1/products/nothing/").status_code == 404


def test_a_product_is_created_with_the_write_scope(personas: Personas, token_client) -> None:
    supplier()
    body = {
        "sku": "srv-r650",
        "name": "Dell PowerEdge R650",
        "kind": "server",
        "item_kind": "physical",
        "unit_price": "6450.00",
        "reorder_level": 1,
        "supplier": "Dell Technologies",
    }
    assert (
        token_client("inventory:read", "reader")
        .post("/api/v1/products/", body, format="json")
        .status_code
        == 403
    )
    response = token_client("inventory:write").post("/api/v1/products/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["item_kind"] == "physical"
    created = Product.objects.get(sku="srv-r650")
    assert (created.reorder_level, created.supplier.name) == (1, "Dell Technologies")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "spaceship"}, "kind"),
        ({"sku": "ssd-960"}, "sku"),
        ({"sku": "not a slug"}, "sku"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"supplier": "Nobody"}, "supplier"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_product_answers_400_with_the_field(
    personas: Personas, token_client, change: dict, field: str
) -> None:
    product()
    body = {"sku": "new-part", "name": "New part", "kind": "part", **change}
    response = token_client("inventory:write").post("/api/v1/products/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_products_are_created_by_it_managers_only(personas: Personas) -> None:
    body = {"sku": "new-part", "name": "New part", "kind": "part"}
    assert as_user(personas.jr).post("/api/v1/products/", body, format="json").status_code == 403
    assert as_user(personas.jr).get("/api/v1/products/").status_code == 200
    assert as_user(personas.itm).post("/api/v1/products/", body, format="json").status_code == 201


def test_customers_get_no_stock(personas: Personas) -> None:
    product()
    client = as_user(personas.customer_user)
    for url in ("/api/v1/products/", "/api/v1/products/ssd-960/", "/api/v1/purchase-orders/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/api/v1/purchase-orders/", order_body(), format="json").status_code == 403


def test_no_token_no_stock(personas: Personas, api: APIClient) -> None:
    assert api.get("/api/v1/products/").status_code == 401


# --- Purchase orders ----------------------------------------------------------------


def test_a_senior_engineer_places_an_order(personas: Personas) -> None:
    product()
    response = as_user(personas.sr).post("/api/v1/purchase-orders/", order_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    created = PurchaseOrder.objects.get()
    assert body.keys() == ORDER_FIELDS
    assert body["number"] == created.number == f"PO-{created.pk:06d}"
    assert (body["status"], body["destination"], body["customer"], body["ordered_by"]) == (
        "ordered",
        "ams1",
        "1000",
        "sr",
    )
    assert body["lines"] == [
        {
            "product": "ssd-960",
            "quantity": 4,
            "received_quantity": 0,
            "outstanding": 4,
            "unit_price": "175.00",
        }
    ]


def test_a_junior_engineer_cannot_order(personas: Personas) -> None:
    product()
    response = as_user(personas.jr).post("/api/v1/purchase-orders/", order_body(), format="json")
    assert response.status_code == 403
    assert not PurchaseOrder.objects.exists()


def test_an_integration_client_orders_for_a_named_engineer(
    personas: Personas, token_client
) -> None:
    product()
    client = token_client("inventory:write")
    missing = client.post("/api/v1/purchase-orders/", order_body(), format="json")
    assert (missing.status_code, list(missing.json())) == (400, ["ordered_by"])
    junior = client.post("/api/v1/purchase-orders/", order_body(ordered_by="jr"), format="json")
    assert (junior.status_code, list(junior.json())) == (400, ["ordered_by"])
    response = client.post("/api/v1/purchase-orders/", order_body(ordered_by="sr"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["ordered_by"] == "sr"


def test_a_person_orders_only_as_themselves(personas: Personas) -> None:
    product()
    body = order_body(ordered_by="itm")
    response = as_user(personas.sr).post("/api/v1/purchase-orders/", body, format="json")
    assert (response.status_code, list(response.json())) == (400, ["ordered_by"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"product": "nothing", "quantity": 1}]}, "lines"),
        ({"lines": [{"product": "ssd-960", "quantity": 0}]}, "lines"),
        ({"destination": "moon"}, "destination"),
        ({"supplier": "Nobody"}, "supplier"),
        ({"customer": "9999"}, "customer"),
        ({"expected_on": "2001-01-01"}, "expected_on"),
        ({"expected_on": "someday"}, "expected_on"),
    ],
)
def test_a_bad_order_answers_400_with_the_field(
    personas: Personas, change: dict, field: str
) -> None:
    product()
    body = order_body(**change)
    response = as_user(personas.sr).post("/api/v1/purchase-orders/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not PurchaseOrder.objects.exists()


def test_an_order_line_without_a_price_takes_the_products(personas: Personas) -> None:
    product()
    body = order_body(lines=[{"product": "ssd-960", "quantity": 2}])
    response = as_user(personas.sr).post("/api/v1/purchase-orders/", body, format="json")
    assert response.json()["lines"][0]["unit_price"] == "180.00"


def test_an_order_is_created_once_per_idempotency_key(personas: Personas, token_client) -> None:
    product()
    client = token_client("inventory:write")
    body = order_body(ordered_by="sr")
    first = client.post(
        "/api/v1/purchase-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-1"
    )
    again = client.post(
        "/api/v1/purchase-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-1"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["number"] == again.json()["number"]
    assert PurchaseOrder.objects.count() == 1


def test_orders_are_listed_filtered_and_read_by_number(personas: Personas, token_client) -> None:
    disk = product()
    partial = order(personas, [(disk, 5)])
    stock_receive(line=first_line(partial), quantity=2, actor=personas.jr, now=partial.ordered_at)
    order(personas, [(disk, 1)], destination="ams1", customer=personas.customer)
    client = token_client("inventory:read")
    body = client.get("/api/v1/purchase-orders/").json()
    assert body["count"] == 2
    only = client.get("/api/v1/purchase-orders/?status=partial").json()["results"]
    assert [o["number"] for o in only] == [partial.number]
    assert only[0]["lines"][0]["received_quantity"] == 2
    assert client.get("/api/v1/purchase-orders/?customer=1000").json()["count"] == 1
    assert client.get("/api/v1/purchase-orders/?destination=mls").json()["count"] == 1
    detail = client.get(f"/api/v1/purchase-orders/{partial.number}/")
    assert (detail.status_code, detail.json()["status"]) == (200, "partial")
    assert client.get("/api/v1/purchase-orders/PO-999999/").status_code == 404


def test_the_order_list_costs_the_same_for_many_orders(personas: Personas, token_client) -> None:
    client = token_client("inventory:read")
    disk, memory = product(), product("ram-32g")
    order(personas, [(disk, 1)])
    client.get("/api/v1/purchase-orders/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/purchase-orders/")
    for _n in range(8):
        order(personas, [(disk, 2), (memory, 3)], customer=personas.customer)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/purchase-orders/").json()["count"] == 9
    assert len(many) == len(few)


def test_the_schema_documents_the_stock_endpoints(personas: Personas) -> None:
    schema = as_user(personas.jr).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/products/", "/api/v1/purchase-orders/{number}/"} <= set(paths)
