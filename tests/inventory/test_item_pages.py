"""The configuration item pages: the list with search, filters and CSV
export, an item's page with its history, and the forms that change an
item. Viewers read only; customers do not see the staff pages at all."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from backups.models import ResponsibilityGroup
from events.services import history_of
from inventory.item_services import ip_address_add, item_create, software_set
from inventory.models import ConfigurationItem, Location
from tests.backups.factories import make_job
from tests.base import Personas, make_user
from tests.inventory.item_setup import Items, logged_in, make_items

WEB01 = "/network/items/web01.hoogendijk.example/"


@pytest.fixture
def items(personas: Personas) -> Items:
    return make_items(personas)


@pytest.fixture
def viewer(personas: Personas) -> Client:
    return logged_in(make_user("viewer", roles=(Role.VIEWER,)))


def _csv(client: Client, query: str = "") -> list[list[str]]:
    response = client.get("/network/export.csv" + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


# --- The list -----------------------------------------------------------------------


def test_the_list_shows_every_item_with_its_addresses(personas: Personas, items: Items) -> None:
    page = logged_in(personas.jr).get("/network/").content.decode()
    for text in ("web01.hoogendijk.example", "shop.korenschoof.example", "CZ2405B9Q3"):
        assert text in page
    assert "185.52.224.11" in page and "Dell PowerEdge R650" in page
    assert 'href="/network/items/CZ2405B9Q3/"' in page  # no hostname: by serial number


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=224.40", {"shop.korenschoof.example"}),
        ("?q=WEB01", {"web01.hoogendijk.example"}),
        ("?q=R660", {"CZ2405B9Q3"}),
        ("?q=CZ2301", {"web01.hoogendijk.example"}),
        ("?kind=vps_hyperv", {"shop.korenschoof.example"}),
        ("?status=in_stock", {"CZ2405B9Q3"}),
        ("?customer=2000", {"shop.korenschoof.example"}),
        ("?location=mls", {"CZ2405B9Q3"}),
        ("?customer=1000&status=installed", set()),
    ],
)
def test_the_list_searches_and_filters(
    personas: Personas, items: Items, query: str, expected: set[str]
) -> None:
    page = logged_in(personas.jr).get("/network/" + query).content.decode()
    shown = {
        ref
        for ref in ("web01.hoogendijk.example", "shop.korenschoof.example", "CZ2405B9Q3")
        if f'href="/network/items/{ref}/"' in page
    }
    assert shown == expected


def test_the_list_costs_the_same_number_of_queries_for_many_items(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.jr)
    client.get("/network/")  # warm up the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get("/network/").status_code == 200
    for n in range(12):
        item = item_create(
            actor=personas.jr,
            now=items.web01.created_at,
            hostname=f"vps{n}.example.nl",
            kind="vps_vmware",
            customer=personas.customer,
            location=Location.objects.get(code="ams2"),
        )
        ip_address_add(
            item=item, address=f"185.52.226.{n + 1}", actor=personas.jr, now=item.created_at
        )
        software_set(
            item=item, name="nginx", version="1.24.0", actor=personas.jr, now=item.created_at
        )
    with CaptureQueriesContext(connection) as many:
        assert "vps11.example.nl" in client.get("/network/").content.decode()
    assert len(many) == len(few)


# --- CSV export -----------------------------------------------------------------------


def test_the_export_lists_the_filtered_items_without_notes(
    personas: Personas, items: Items
) -> None:
    rows = _csv(logged_in(personas.jr))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["hostname", "serial_number", "kind"]
    assert "notes" not in header and not any("secret" in h for h in header)
    web01 = next(row for row in body if row[0] == "web01.hoogendijk.example")
    record = dict(zip(header, web01, strict=True))
    assert record["customer"] == "1000" and record["location"] == "ams1"
    assert record["ip_addresses"] == "10.10.0.11 185.52.224.11"
    assert record["software"] == "nginx 1.24.0"
    assert "fan replaced" not in str(rows)
    only = _csv(logged_in(personas.jr), "?customer=2000")
    assert [row[0] for row in only[1:]] == ["shop.korenschoof.example"]


def test_the_export_defuses_spreadsheet_formulas(personas: Personas, items: Items) -> None:
    item_create(
        actor=personas.jr,
        now=items.web01.created_at,
        serial_number="=HYPERLINK(1)",
        kind="other",
        machine_type="@SUM(A1)",
    )
    rows = _csv(logged_in(personas.jr), "?q=HYPERLINK")
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][3] == "'@SUM(A1)"


# --- The item page ---------------------------------------------------------------------


def test_the_item_page_shows_everything_and_the_field_history(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.jr)
    client.post(WEB01 + "edit/", {**_form_of(items.web01), "os_version": "24.04"})
    page = client.get(WEB01).content.decode()
    assert "Dell PowerEdge R650" in page and "A12" in page and "Ubuntu 24.04" in page
    assert "185.52.224.11" in page and "10.10.0.11" in page and "private" in page
    assert "nginx" in page and "1.26.2" in page and "behind" in page
    assert "root password" in page  # the label only
    assert "Internal: fan replaced" in page
    # History: who, which field, old → new.
    assert "OS version: 22.04 → 24.04" in page
    assert "IP address: — → 185.52.224.11" in page
    assert "Software nginx: — → 1.24.0" in page
    assert "secret stored “root password”" in page
    assert "Status: — → in production" in page


def test_the_item_page_is_found_by_serial_number_and_case_insensitive_hostname(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.jr)
    assert client.get("/network/items/CZ2301A7K1/").status_code == 200
    assert client.get("/network/items/WEB01.Hoogendijk.example/").status_code == 200
    assert client.get("/network/items/nothing.example/").status_code == 404


def test_the_item_page_lists_linked_backup_jobs(personas: Personas, items: Items) -> None:
    group = ResponsibilityGroup.objects.create(code="unix", name="Unix", responsible=personas.sr)
    make_job(personas, group, "web01-mysql", machine=items.web01)
    page = logged_in(personas.jr).get(WEB01).content.decode()
    assert 'href="/backups/jobs/web01-mysql/"' in page


def test_a_viewer_reads_but_cannot_change(personas: Personas, items: Items, viewer: Client) -> None:
    assert "web01.hoogendijk.example" in viewer.get("/network/").content.decode()
    page = viewer.get(WEB01).content.decode()
    assert "nginx" in page
    for action in ("edit/", "ips/", "software/", "secrets/", "status/", "reveal/"):
        assert f'{action}"' not in page, action
    assert "New item" not in viewer.get("/network/").content.decode()
    assert viewer.get("/network/new/").status_code == 403
    assert viewer.get(WEB01 + "edit/").status_code == 403
    for action, data in [
        ("edit/", _form_of(items.web01)),
        ("status/", {"status": "installed"}),
        ("ips/", {"address": "185.52.224.99"}),
        ("ips/remove/", {"address": "185.52.224.11"}),
        ("software/", {"name": "PHP", "version": "8.3.1"}),
        ("software/remove/", {"name": "nginx"}),
    ]:
        assert viewer.post(WEB01 + action, data).status_code == 403, action
    assert history_of(items.web01).filter(actor__username="viewer").count() == 0


def test_customers_do_not_see_the_staff_pages(personas: Personas, items: Items) -> None:
    customer = logged_in(personas.customer_user)
    for url in ("/network/", WEB01, "/network/new/", "/network/export.csv", WEB01 + "edit/"):
        assert customer.get(url).status_code == 404, url
    assert Client().get("/network/").status_code == 302


# --- Changing an item -----------------------------------------------------------------


def _form_of(item: ConfigurationItem) -> dict[str, str]:
    return {
        "hostname": item.hostname or "",
        "serial_number": item.serial_number or "",
        "kind": item.kind,
        "machine_type": item.machine_type,
        "customer": item.customer.number if item.customer else "",
        "location": item.location.code if item.location else "",
        "rack": item.rack,
        "os_name": item.os_name,
        "os_version": item.os_version,
        "redundancy_group": item.redundancy_group,
        "notes": item.notes,
    }


def test_an_engineer_registers_an_item(personas: Personas, items: Items) -> None:
    client = logged_in(personas.jr)
    assert client.get("/network/new/").status_code == 200
    data = {"hostname": "DB01.Example.nl", "kind": "vps_hyperv", "customer": "1000"}
    response = client.post("/network/new/", {**data, "location": "ams2", "status": "installed"})
    assert response.status_code == 302
    assert response["Location"] == "/network/items/db01.example.nl/"
    item = ConfigurationItem.objects.get(hostname="db01.example.nl")
    assert (item.customer, item.status) == (personas.customer, "installed")
    again = client.post("/network/new/", {**data, "status": "installed"})
    assert again.status_code == 400
    assert "This hostname is already in use." in again.content.decode()
    bad = client.post("/network/new/", {"hostname": "", "kind": "switch", "status": "in_stock"})
    assert "Give a hostname or a serial number" in bad.content.decode()


def test_an_engineer_edits_an_item_and_is_redirected_to_its_new_name(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.jr)
    assert client.get("/network/items/CZ2405B9Q3/edit/").status_code == 200
    data = {**_form_of(items.spare), "hostname": "spare01.example.nl", "rack": "R2"}
    response = client.post("/network/items/CZ2405B9Q3/edit/", data)
    assert response.status_code == 302
    assert response["Location"] == "/network/items/spare01.example.nl/"
    event = history_of(items.spare).get(kind="item.updated")
    assert event.actor == personas.jr
    assert event.data["changes"] == {
        "hostname": [None, "spare01.example.nl"],
        "rack": ["", "R2"],
    }


def test_the_status_form_offers_only_allowed_moves(personas: Personas, items: Items) -> None:
    client = logged_in(personas.jr)
    page = client.get("/network/items/CZ2405B9Q3/").content.decode()
    assert 'value="installed"' in page and 'value="in_production"' not in page
    response = client.post("/network/items/CZ2405B9Q3/status/", {"status": "in_production"})
    assert response.status_code == 400
    response = client.post(
        "/network/items/CZ2405B9Q3/status/", {"status": "installed", "reason": "racked"}
    )
    assert response.status_code == 302
    items.spare.refresh_from_db()
    assert items.spare.status == "installed"


def test_addresses_and_software_are_changed_on_the_item_page(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.jr)
    bad = client.post(WEB01 + "ips/", {"address": "185.52.224.400"})
    assert bad.status_code == 400 and "Enter a valid IPv4 or IPv6 address" in bad.content.decode()
    taken = client.post(WEB01 + "ips/", {"address": "185.52.224.40"})
    assert taken.status_code == 400
    assert "already in use by shop.korenschoof.example" in taken.content.decode()
    assert client.post(WEB01 + "ips/", {"address": "2a02:58::10"}).status_code == 302
    assert client.post(WEB01 + "ips/remove/", {"address": "10.10.0.11"}).status_code == 302
    assert set(items.web01.ip_addresses.values_list("address", flat=True)) == {
        "185.52.224.11",
        "2a02:58::10",
    }
    assert client.post(WEB01 + "software/", {"name": "PHP", "version": "8.3.1"}).status_code == 302
    assert client.post(WEB01 + "software/remove/", {"name": "nginx"}).status_code == 302
    assert list(items.web01.software.values_list("name", "version")) == [("PHP", "8.3.1")]
    page = client.get(WEB01).content.decode()
    assert "IP address: 10.10.0.11 → —" in page and "Software PHP: — → 8.3.1" in page
