"""The staff delivery pages: the board, the request form, a delivery's page
with its checklist actions, and the environment document."""

from __future__ import annotations

import time_machine
from django.test import Client

from inventory.models import ConfigurationItem, Delivery, DeliveryStatus, DeliveryStep
from tests.base import Personas
from tests.inventory.delivery_setup import (
    NOW,
    S,
    accepted,
    at,
    logged_in,
    request,
    to_customer_test,
)


def test_the_board_shows_each_delivery_with_its_next_step(
    personas: Personas, django_assert_num_queries: object
) -> None:
    waiting = to_customer_test(personas)
    fresh = request(personas, server_kind="physical", hypervisor="")
    client = logged_in(personas.jr)
    client.get("/network/deliveries/")  # warm the session and permission caches
    with time_machine.travel(at(30), tick=False):
        with django_assert_num_queries(6):  # type: ignore[operator]
            page = client.get("/network/deliveries/").content.decode()
        for _ in range(4):
            request(personas)
        with django_assert_num_queries(6):  # type: ignore[operator]
            client.get("/network/deliveries/")
    assert f'id="delivery-{fresh.number}"' in page and "next: server ordered" in page
    assert f'id="delivery-{waiting.number}"' in page and "waiting for the customer" in page
    assert 'href="/network/deliveries/new/"' not in page  # engineers do not request


def test_sales_hand_over_a_structured_request(personas: Personas) -> None:
    client = logged_in(personas.sales)
    assert 'href="/network/deliveries/new/"' in client.get("/network/deliveries/").content.decode()
    form = {
        "customer": "1000",
        "origin": "handover",
        "server_kind": "virtual",
        "hypervisor": "",
        "os_name": "Debian 12",
        "contacts": "Kees <kees@hoogendijk.example>",
        "wanted_on": "2026-04-01",
    }
    with time_machine.travel(NOW, tick=False):
        response = client.post("/network/deliveries/new/", form)
        assert response.status_code == 400
        assert "Choose the hypervisor of the virtual server." in response.content.decode()
        response = client.post("/network/deliveries/new/", {**form, "hypervisor": "hyperv"})
    delivery = Delivery.objects.get()
    assert response.status_code == 302 and response["Location"] == delivery.get_absolute_url()
    assert (delivery.hypervisor, delivery.requested_by) == ("hyperv", personas.sales)
    assert logged_in(personas.jr).get("/network/deliveries/new/").status_code == 403


def test_an_engineer_ticks_off_the_next_step_and_sees_who_did_it(personas: Personas) -> None:
    delivery = request(personas)
    client = logged_in(personas.jr)
    url = delivery.get_absolute_url()
    page = client.get(url).content.decode()
    assert 'Done<span class="visually-hidden">: VPS created</span>' in page
    response = client.post(f"{url}steps/", {"step": "os_installed", "note": ""})
    assert response.status_code == 400
    assert "First: VPS created, registered in Network." in response.content.decode()
    response = client.post(f"{url}steps/", {"step": "vps_created", "note": "on esx04"})
    assert response.status_code == 302
    step = DeliveryStep.objects.get(delivery=delivery)
    assert (step.step, step.done_by, step.note) == ("vps_created", personas.jr, "on esx04")
    page = client.get(url).content.decode()
    assert 'id="step-vps_created"' in page and "Jr" in page and "on esx04" in page
    assert "Register the machine" in page


def test_the_machine_is_registered_from_the_delivery_page(personas: Personas) -> None:
    delivery = request(personas)
    client = logged_in(personas.sr)
    client.post(f"{delivery.get_absolute_url()}steps/", {"step": "vps_created"})
    response = client.post(
        f"{delivery.get_absolute_url()}register/",
        {
            "hostname": "vps30.hoogendijk.example",
            "machine_type": "VMware VM",
            "location": "ams2",
            "password": "s3cret-pass-xyz",
        },
    )
    assert response.status_code == 302
    item = ConfigurationItem.objects.get(hostname="vps30.hoogendijk.example")
    assert item.customer == personas.customer and item.location.code == "ams2"  # type: ignore[union-attr]
    page = client.get(delivery.get_absolute_url()).content.decode()
    assert "vps30.hoogendijk.example" in page and "s3cret-pass-xyz" not in page


def test_letter_and_hand_over_from_the_page(personas: Personas) -> None:
    delivery = accepted(personas)
    client = logged_in(personas.sr)
    url = delivery.get_absolute_url()
    page = client.get(url).content.decode()
    assert "Send the confirmation letter" in page
    preview = client.get(f"{url}letter.txt")
    assert preview["Content-Type"].startswith("text/plain")
    assert "vps21.hoogendijk.example" in preview.content.decode()
    assert client.post(f"{url}complete/", {"note": ""}).status_code == 400
    assert client.post(f"{url}confirm/").status_code == 302
    assert client.post(f"{url}complete/", {"note": "done"}).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert 'id="lead-time"' in client.get(url).content.decode()


def test_the_document_pages_for_staff(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    client = logged_in(personas.sales)  # sales may read deliveries
    html = client.get(f"{delivery.get_absolute_url()}document/")
    assert html.status_code == 200 and b"vps21.hoogendijk.example" in html.content
    pdf = client.get(f"{delivery.get_absolute_url()}document.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # Sales read but do not work the checklist.
    assert (
        client.post(f"{delivery.get_absolute_url()}steps/", {"step": S.DOCUMENTED}).status_code
        == 403
    )


def test_customers_and_strangers_do_not_reach_the_staff_pages(personas: Personas) -> None:
    delivery = request(personas)
    customer = logged_in(personas.customer_user)
    for url in (
        "/network/deliveries/",
        delivery.get_absolute_url(),
        f"{delivery.get_absolute_url()}document/",
    ):
        assert customer.get(url).status_code == 404
        assert Client().get(url).status_code == 302
    assert logged_in(personas.jr).get("/network/deliveries/D-999999/").status_code == 404
