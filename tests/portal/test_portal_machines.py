"""The portal's machines: a customer sees their own company's machines with
status, OS, addresses and software; never another company's, never a
secret, never the internal notes or the history."""

from __future__ import annotations

import pytest
from django.test import Client

from inventory.item_services import item_transition
from tests.base import Personas
from tests.inventory.item_setup import (
    NOW,
    ROOT_PASSWORD,
    Items,
    logged_in,
    make_items,
)

MACHINES = "/portal/machines/"
WEB01 = MACHINES + "web01.hoogendijk.example/"


@pytest.fixture
def items(personas: Personas) -> Items:
    return make_items(personas)


def test_a_customer_sees_their_own_machines(personas: Personas, items: Items) -> None:
    page = logged_in(personas.customer_user).get(MACHINES).content.decode()
    assert 'href="/portal/machines/web01.hoogendijk.example/"' in page
    assert "Ubuntu 22.04" in page and "185.52.224.11" in page and "in production" in page
    assert "shop.korenschoof.example" not in page and "CZ2405B9Q3" not in page
    other = logged_in(personas.other_customer_user).get(MACHINES).content.decode()
    assert "shop.korenschoof.example" in other and "web01.hoogendijk.example" not in other


def test_the_machine_page_shows_addresses_and_software_but_nothing_internal(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.customer_user)
    page = client.get(WEB01).content.decode()
    assert "Dell PowerEdge R650" in page and "Amsterdam datacenter AMS1" in page
    assert "10.10.0.11" in page and "private" in page
    assert "nginx" in page and "1.24.0" in page and "1.26.2" in page  # a newer version exists
    assert ROOT_PASSWORD not in page
    assert "root password" not in page  # not even the secret's label
    assert "fan replaced" not in page  # internal notes
    assert "History" not in page
    assert client.get(MACHINES + "CZ2301A7K1/").status_code == 200  # by serial number too


def test_another_companys_machine_answers_404(personas: Personas, items: Items) -> None:
    client = logged_in(personas.customer_user)
    assert client.get(MACHINES + "shop.korenschoof.example/").status_code == 404
    assert client.get(MACHINES + "CZ2405B9Q3/").status_code == 404  # the company's own
    assert client.get(MACHINES + "nothing.example/").status_code == 404


def test_decommissioned_machines_leave_the_list(personas: Personas, items: Items) -> None:
    item_transition(item=items.web01, status="decommissioned", actor=personas.sr, now=NOW)
    page = logged_in(personas.customer_user).get(MACHINES).content.decode()
    assert "web01.hoogendijk.example" not in page
    assert "No machines are registered for your company yet." in page


def test_staff_do_not_use_the_portal_machines(personas: Personas, items: Items) -> None:
    assert logged_in(personas.jr).get(MACHINES).status_code == 404
    assert logged_in(personas.jr).get(WEB01).status_code == 404
    assert Client().get(MACHINES).status_code == 302
