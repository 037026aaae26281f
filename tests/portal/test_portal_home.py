from __future__ import annotations

from django.test import Client

from tests.base import Personas


def test_a_customer_sees_their_own_company_and_nothing_of_another(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.customer_user)
    page = client.get("/portal/").content.decode()
    assert "Hoogendijk Logistiek" in page and "1000" in page and "Managed" in page
    assert "Korenschoof" not in page and "customer2" not in page


def test_staff_do_not_use_the_portal(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.jr)
    assert client.get("/portal/").status_code == 404
