from __future__ import annotations

from django.test import Client

from tests.base import Personas


def test_staff_find_customers_and_open_one(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.jr)
    listing = client.get("/customers/?q=koren").content.decode()
    assert "Korenschoof" in listing and "Hoogendijk" not in listing
    detail = client.get("/customers/1000/").content.decode()
    assert "Hoogendijk Logistiek" in detail and "customer1" in detail
    assert client.get("/customers/9999/").status_code == 404


def test_sales_may_look_customers_up_but_customers_may_not(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.sales)
    assert client.get("/customers/").status_code == 200
    client.force_login(personas.customer_user)
    assert client.get("/customers/").status_code == 404
