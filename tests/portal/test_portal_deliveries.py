"""Deliveries in the portal: a customer follows their own company's new
environments, opens the environment document and, while one waits for
their test, accepts it or reports a problem. Another company's delivery
answers 404."""

from __future__ import annotations

from django.test import Client

from inventory.models import DeliveryStatus, DeliveryStep
from tests.base import Personas
from tests.inventory.delivery_setup import (
    SERVER_PASSWORD,
    S,
    accepted,
    logged_in,
    request,
    to_customer_test,
)

# Until portal/urls.py mounts inventory.portal_urls, mount the pages here.


def test_a_customer_sees_only_their_own_deliveries_with_progress(personas: Personas) -> None:
    own = to_customer_test(personas)
    other = request(personas, customer=personas.other_customer)
    page = logged_in(personas.customer_user).get("/portal/deliveries/").content.decode()
    assert f'href="/portal/deliveries/{own.number}/"' in page
    assert "waiting for your test" in page and "7 of 11 steps" in page
    assert str(other.number) not in page
    other_page = logged_in(personas.other_customer_user).get("/portal/deliveries/").content.decode()
    assert str(other.number) in other_page and str(own.number) not in other_page


def test_the_delivery_page_shows_the_steps_done_without_internal_notes(
    personas: Personas,
) -> None:
    delivery = to_customer_test(personas)
    DeliveryStep.objects.filter(delivery=delivery, step=S.CONFIGURED).update(
        note="INTERNAL: vhost config copied from web01"
    )
    page = (
        logged_in(personas.customer_user)
        .get(f"/portal/deliveries/{delivery.number}/")
        .content.decode()
    )
    assert "OS installed" in page and "your turn" in page
    assert "INTERNAL" not in page and "Quote Q-1001" not in page  # step notes, request notes
    assert "Accept the environment" in page and "Report a problem" in page
    assert f'href="/portal/deliveries/{delivery.number}/document/"' in page


def test_the_customer_accepts_in_the_portal(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    client = logged_in(personas.customer_user)
    response = client.post(f"/portal/deliveries/{delivery.number}/accept/")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/deliveries/{delivery.number}/"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.accepted_by) == (
        DeliveryStatus.ACCEPTED,
        personas.customer_user,
    )
    page = client.get(response["Location"]).content.decode()
    assert "you accepted the environment" in page
    assert "Accept the environment" not in page
    # A second click changes nothing and says why.
    client.post(f"/portal/deliveries/{delivery.number}/accept/")
    delivery.refresh_from_db()
    assert delivery.customer_test_rounds == 1


def test_reporting_a_problem_needs_the_remarks(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    client = logged_in(personas.customer_user)
    url = f"/portal/deliveries/{delivery.number}/reject/"
    response = client.post(url, {"remarks": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = client.post(url, {"remarks": "The FTP login fails"})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.IN_PROGRESS, 1)


def test_the_customer_opens_the_environment_document(personas: Personas) -> None:
    delivery = accepted(personas)
    client = logged_in(personas.customer_user)
    html = client.get(f"/portal/deliveries/{delivery.number}/document/").content.decode()
    assert "vps21.hoogendijk.example" in html and "203.0.113.21" in html
    assert f'href="/portal/deliveries/{delivery.number}/document.pdf"' in html
    assert SERVER_PASSWORD not in html
    pdf = client.get(f"/portal/deliveries/{delivery.number}/document.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_another_companys_delivery_answers_404(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    client = logged_in(personas.other_customer_user)
    base = f"/portal/deliveries/{delivery.number}/"
    for url in (base, f"{base}document/", f"{base}document.pdf"):
        assert client.get(url).status_code == 404
    assert client.post(f"{base}accept/").status_code == 404
    assert client.post(f"{base}reject/", {"remarks": "x"}).status_code == 404
    delivery.refresh_from_db()
    assert (delivery.status, delivery.customer_test_rounds) == (DeliveryStatus.CUSTOMER_TEST, 0)


def test_staff_do_not_use_the_portal_deliveries(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    assert logged_in(personas.sr).get("/portal/deliveries/").status_code == 404
    assert (
        logged_in(personas.sr).post(f"/portal/deliveries/{delivery.number}/accept/").status_code
        == 404
    )
    assert Client().get("/portal/deliveries/").status_code == 302
