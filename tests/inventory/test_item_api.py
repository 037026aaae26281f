"""The machines API (API.md, "Network"): the contract, validation, scopes,
customers reading only their own machines, and a list whose query count
does not grow with the number of machines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from events.services import history_of
from inventory.item_services import ip_address_add, item_create, software_set
from inventory.models import ConfigurationItem
from tests.base import Personas
from tests.inventory.item_setup import NOW, Items, make_items

URL = "/api/v1/machines/"
WEB01 = URL + "web01.hoogendijk.example/"
NEW = {
    "hostname": "DB01.hoogendijk.example",
    "serial_number": "CZ9999",
    "kind": "physical",
    "machine_type": "Dell PowerEdge R760",
    "customer": "1000",
    "location": "ams2",
    "rack": "C1",
    "os_name": "Ubuntu",
    "os_version": "24.04",
    "status": "installed",
    "redundancy_group": "hoogendijk-db",
    "ip_addresses": ["185.52.225.30", "10.10.0.30"],
    "software": [{"name": "nginx", "version": "1.24.0"}, {"name": "MySQL", "version": "8.4.3"}],
}
FIELDS = {
    "hostname",
    "serial_number",
    "kind",
    "machine_type",
    "customer",
    "location",
    "rack",
    "os_name",
    "os_version",
    "status",
    "redundancy_group",
    "product",
    "ip_addresses",
    "software",
    "notes",
    "created_at",
    "updated_at",
}


@pytest.fixture
def items(personas: Personas) -> Items:
    return make_items(personas)


@pytest.fixture
def reader(token_client: Callable[..., APIClient]) -> APIClient:
    return token_client("inventory:read", name="reader")


@pytest.fixture
def writer(token_client: Callable[..., APIClient]) -> APIClient:
    return token_client("inventory:read,inventory:write", name="admin.arge")


def _session(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- Reading ---------------------------------------------------------------------------


def test_a_machine_as_returned(items: Items, reader: APIClient) -> None:
    response = reader.get(WEB01)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body["hostname"] == "web01.hoogendijk.example"
    assert (body["customer"], body["location"], body["status"]) == ("1000", "ams1", "in_production")
    assert body["ip_addresses"] == [
        {"address": "10.10.0.11", "is_private": True},
        {"address": "185.52.224.11", "is_private": False},
    ]
    assert body["software"] == [
        {"name": "nginx", "version": "1.24.0", "latest_version": "1.26.2", "behind": True}
    ]


def test_a_machine_is_found_by_serial_number_when_its_hostname_is_unknown(
    items: Items, reader: APIClient
) -> None:
    assert reader.get(URL + "CZ2405B9Q3/").json()["serial_number"] == "CZ2405B9Q3"
    assert reader.get(URL + "CZ2301A7K1/").json()["hostname"] == "web01.hoogendijk.example"
    missing = reader.get(URL + "nothing.example/")
    assert missing.status_code == 404 and "detail" in missing.json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["CZ2405B9Q3", "shop.korenschoof.example", "web01.hoogendijk.example"]),
        ("?customer=1000", ["web01.hoogendijk.example"]),
        ("?status=installed", ["shop.korenschoof.example"]),
        ("?status=installed&status=in_stock", ["CZ2405B9Q3", "shop.korenschoof.example"]),
        ("?kind=physical", ["CZ2405B9Q3", "web01.hoogendijk.example"]),
        ("?location=mls", ["CZ2405B9Q3"]),
        ("?search=185.52.224.4", ["shop.korenschoof.example"]),
        ("?search=poweredge", ["CZ2405B9Q3", "web01.hoogendijk.example"]),
        ("?ordering=-updated_at&customer=2000", ["shop.korenschoof.example"]),
    ],
)
def test_the_list_filters(items: Items, reader: APIClient, query: str, expected: list[str]) -> None:
    response = reader.get(URL + query)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(expected)
    assert sorted(m["hostname"] or m["serial_number"] for m in body["results"]) == expected


def test_the_list_costs_the_same_number_of_queries_for_many_machines(
    personas: Personas, items: Items, reader: APIClient
) -> None:
    reader.get(URL)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert reader.get(URL).status_code == 200
    for n in range(10):
        item = item_create(
            actor=personas.jr, now=NOW, hostname=f"vps{n}.example.nl", kind="vps_vmware"
        )
        ip_address_add(item=item, address=f"185.52.226.{n + 1}", actor=personas.jr, now=NOW)
        software_set(item=item, name="nginx", version="1.26.2", actor=personas.jr, now=NOW)
    with CaptureQueriesContext(connection) as many:
        response = reader.get(URL)
    assert response.json()["count"] == 13
    assert len(many) == len(few)


# --- Writing ---------------------------------------------------------------------------


def test_a_client_registers_a_machine(personas: Personas, writer: APIClient) -> None:
    response = writer.post(URL, NEW, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["hostname"] == "db01.hoogendijk.example" and body["status"] == "installed"
    assert [ip["address"] for ip in body["ip_addresses"]] == ["10.10.0.30", "185.52.225.30"]
    assert [sw["name"] for sw in body["software"]] == ["MySQL", "nginx"]
    item = ConfigurationItem.objects.get(hostname="db01.hoogendijk.example")
    events = history_of(item)
    assert events.get(kind="item.created").actor_label == "api:admin.arge"
    assert events.filter(kind="item.ip_added").count() == 2


def test_an_idempotency_key_registers_once(personas: Personas, writer: APIClient) -> None:
    first = writer.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = writer.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert ConfigurationItem.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hostname": "web01.hoogendijk.example"}, "hostname"),
        ({"hostname": "WEB01.hoogendijk.example"}, "hostname"),
        ({"hostname": "bad_name.example"}, "hostname"),
        ({"hostname": "", "serial_number": ""}, "hostname"),
        ({"serial_number": "CZ2405B9Q3"}, "serial_number"),
        ({"kind": "mainframe"}, "kind"),
        ({"customer": "9999"}, "customer"),
        ({"location": "mars"}, "location"),
        ({"status": "broken"}, "status"),
        ({"ip_addresses": ["10.0.0.300"]}, "ip_addresses"),
        ({"ip_addresses": ["185.52.224.40"]}, "ip_addresses"),
        ({"software": [{"name": "nginx"}]}, "software"),
        ({"software": [{"name": "a", "version": "1"}, {"name": "A", "version": "2"}]}, "software"),
    ],
)
def test_bad_input_answers_400_with_the_field_and_stores_nothing(
    items: Items, writer: APIClient, change: dict[str, object], field: str
) -> None:
    before = ConfigurationItem.objects.count()
    response = writer.post(URL, {**NEW, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert ConfigurationItem.objects.count() == before


def test_a_client_changes_a_machine_with_history(
    personas: Personas, items: Items, writer: APIClient
) -> None:
    response = writer.patch(
        WEB01,
        {
            "os_version": "24.04",
            "rack": "A13",
            "ip_addresses": ["185.52.224.11", "185.52.224.12"],
            "software": [{"name": "nginx", "version": "1.26.2"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["os_version"], body["rack"]) == ("24.04", "A13")
    assert [ip["address"] for ip in body["ip_addresses"]] == ["185.52.224.11", "185.52.224.12"]
    assert body["software"][0]["behind"] is False
    event = history_of(items.web01).get(kind="item.updated")
    assert event.data["changes"] == {"os_version": ["22.04", "24.04"], "rack": ["A12", "A13"]}
    assert event.actor_label == "api:admin.arge"


def test_a_patch_moves_the_status_only_along_the_transitions(
    items: Items, writer: APIClient
) -> None:
    refused = writer.patch(URL + "CZ2405B9Q3/", {"status": "in_production"}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()
    moved = writer.patch(URL + "CZ2405B9Q3/", {"status": "installed"}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == "installed"


def test_a_patch_with_bad_input_answers_400_and_changes_nothing(
    items: Items, writer: APIClient
) -> None:
    response = writer.patch(
        WEB01,
        {"hostname": "shop.korenschoof.example", "rack": "Z9"},
        format="json",
    )
    assert response.status_code == 400 and "hostname" in response.json()
    response = writer.patch(WEB01, {"rack": "Z9", "ip_addresses": ["185.52.224.40"]}, format="json")
    assert response.status_code == 400 and "ip_addresses" in response.json()
    items.web01.refresh_from_db()
    assert items.web01.rack == "A12"
    assert items.web01.ip_addresses.count() == 2


# --- Who may ----------------------------------------------------------------------------


def test_scopes_and_credentials(
    items: Items, reader: APIClient, token_client: Callable[..., APIClient]
) -> None:
    assert APIClient().get(URL).status_code == 401
    assert APIClient().get(WEB01).status_code == 401
    assert token_client("tickets:read", name="t").get(URL).status_code == 403
    assert reader.post(URL, NEW, format="json").status_code == 403
    assert reader.patch(WEB01, {"rack": "X"}, format="json").status_code == 403
    assert token_client("inventory:write", name="w").get(URL).status_code == 403


def test_staff_need_the_permissions(personas: Personas, items: Items) -> None:
    sales = _session(personas.sales)  # may view machines, not register them
    assert sales.get(URL).status_code == 200
    assert sales.post(URL, NEW, format="json").status_code == 403
    assert sales.patch(WEB01, {"rack": "X"}, format="json").status_code == 403
    engineer = _session(personas.jr)
    assert engineer.patch(WEB01, {"rack": "X"}, format="json").status_code == 200


def test_a_customer_reads_only_their_own_machines(personas: Personas, items: Items) -> None:
    client = _session(personas.customer_user)
    body = client.get(URL).json()
    assert [m["hostname"] for m in body["results"]] == ["web01.hoogendijk.example"]
    own = client.get(WEB01)
    assert own.status_code == 200 and "notes" not in own.json()
    assert client.get(URL + "shop.korenschoof.example/").status_code == 404
    assert client.get(URL + "CZ2405B9Q3/").status_code == 404
    assert client.get(URL + "?customer=2000").json()["count"] == 0
    assert client.patch(WEB01, {"rack": "X"}, format="json").status_code == 403
    assert client.post(URL, NEW, format="json").status_code == 403


def test_the_schema_documents_the_machines(personas: Personas) -> None:
    client = APIClient()
    client.force_login(personas.jr)
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/machines/"])
    assert {"get", "patch"} <= set(paths["/api/v1/machines/{reference}/"])
