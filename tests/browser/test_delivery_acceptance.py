"""A customer accepts a new environment in a real browser: they open the
delivery waiting for their test, read the environment document and accept;
the engineer's delivery page then shows the step done by the customer."""

from __future__ import annotations

import pytest

from inventory.models import DeliveryStatus
from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in
from tests.inventory.delivery_setup import to_customer_test

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_customer_tests_and_accepts_the_new_environment(new_page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    delivery = to_customer_test(personas)
    number = delivery.number

    customer = new_page()
    violations: list[str] = []
    customer.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(customer, live_server, "customer1")
    customer.get_by_role("heading", name="Welcome, Hoogendijk Logistiek").wait_for()
    customer.goto(f"{live_server.url}/portal/deliveries/")
    customer.get_by_role("heading", name="Your new environments").wait_for()
    row = customer.locator(f"#delivery-{number}")
    row.get_by_text("waiting for your test").wait_for()
    row.get_by_role("link", name=number).click()
    customer.get_by_role("heading", name=f"New environment {number}").wait_for()

    customer.get_by_role("link", name="Open the environment document").click()
    customer.get_by_role(
        "heading", name=f"Environment document {number}: Hoogendijk Logistiek"
    ).wait_for()
    machine = customer.get_by_role("table", name="Machine")
    assert (
        machine.get_by_role("row", name="Hostname")
        .inner_text()
        .endswith("vps21.hoogendijk.example")
    )
    customer.get_by_role("table", name="IP addresses").get_by_text("203.0.113.21").wait_for()
    customer.get_by_role("link", name="Back").click()

    customer.get_by_role("button", name="Accept the environment").click()
    customer.get_by_text("Thank you: you accepted the environment.").wait_for()
    assert customer.locator("#delivery-status").inner_text() == "accepted"
    assert customer.get_by_role("button", name="Accept the environment").count() == 0
    assert violations == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.accepted_by) == (
        DeliveryStatus.ACCEPTED,
        personas.customer_user,
    )

    engineer = new_page()
    log_in(engineer, live_server, "jr")
    engineer.get_by_role("heading", name="My open tasks").wait_for()
    engineer.goto(f"{live_server.url}/network/deliveries/{number}/")
    step = engineer.locator("#step-customer_test")
    step.get_by_text("Customer1").wait_for()
    assert "customer" in step.inner_text()
    engineer.locator("#delivery-status").get_by_text("accepted").wait_for()
    assert engineer.get_by_role("button", name="Send the confirmation letter").count() == 0
