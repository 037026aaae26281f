"""A customer files a ticket in the portal, an engineer answers and resolves
it on the staff pages, the customer follows the live SLA clock and confirms
the solution."""

from __future__ import annotations

import re

import pytest

from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in
from tickets.models import Attachment, Ticket, TicketStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_files_follows_and_confirms_a_ticket(new_page, live_server) -> None:
    make_personas(password=PASSWORD)
    customer = new_page()
    # The pages allow no inline script or style: any violation is a bug.
    violations: list[str] = []
    customer.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(customer, live_server, "customer1")
    customer.get_by_role("heading", name="Welcome, Hoogendijk Logistiek").wait_for()

    nav = customer.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="New ticket").click()
    customer.get_by_role("heading", name="New ticket", level=1).wait_for()
    assert nav.get_by_role("link", name="New ticket").get_attribute("aria-current") == "page"
    customer.get_by_label("Type").select_option("incident")
    customer.get_by_label("Subject").fill("Backups of db02 fail")
    customer.get_by_label("Message").fill("The nightly backup reports an error since Monday.")
    customer.get_by_label("Proposed priority").select_option("1")
    customer.get_by_label("Attachment").set_input_files(
        files=[
            {"name": "backup-log.txt", "mimeType": "text/plain", "buffer": b"ERROR: disk full\n"}
        ]
    )
    customer.get_by_role("button", name="Submit ticket").click()
    customer.get_by_role("heading", name=re.compile("Backups of db02 fail")).wait_for()
    ticket = Ticket.objects.get(subject="Backups of db02 fail")
    assert (ticket.channel, ticket.requested_priority) == ("portal", 1)
    assert Attachment.objects.get(message__ticket=ticket).filename == "backup-log.txt"
    assert customer.get_by_role("link", name="backup-log.txt").is_visible()

    engineer = new_page()
    log_in(engineer, live_server, "jr")
    engineer.goto(f"{live_server.url}/tickets/{ticket.number}/")
    reply = engineer.locator("form[action$='/reply/']")
    reply.get_by_label("Message").fill("The backup disk is full; we are adding space.")
    reply.get_by_role("button", name="Send").click()
    engineer.get_by_text("Reply sent.").wait_for()

    # A fake clock lets the test move time on and watch the script count down.
    customer.clock.install()
    customer.reload()
    customer.get_by_text("The backup disk is full; we are adding space.").wait_for()
    clock = customer.locator("time.sla-clock[data-live='true']")
    clock.wait_for()
    before = clock.inner_text()
    assert re.search(r"left|overdue", before), before
    customer.clock.fast_forward("02:00:00")
    customer.wait_for_function(
        "text => document.querySelector('time.sla-clock').textContent !== text", arg=before
    )
    assert re.search(r"left|overdue", clock.inner_text())
    # The script speaks the page's language.
    customer.get_by_role("button", name="Nederlands").click()
    customer.wait_for_function("() => document.documentElement.lang === 'nl'")
    clock.wait_for()
    assert re.search(r"^nog |te laat$", clock.inner_text()), clock.inner_text()
    customer.get_by_role("button", name="English").click()
    customer.wait_for_function("() => document.documentElement.lang === 'en'")

    engineer.reload()
    resolve = engineer.locator("form[action$='/resolve/']")
    resolve.get_by_label("Resolution:", exact=True).select_option("solved")
    resolve.get_by_label("Cause code").select_option("configuration")
    resolve.get_by_label("Resolution for the customer").fill("We doubled the backup disk.")
    resolve.get_by_role("button", name="Resolve ticket").click()
    engineer.get_by_text("Resolved; the customer has been told.").wait_for()

    customer.reload()
    customer.get_by_role("heading", name="Our solution").wait_for()
    assert customer.get_by_text("We doubled the backup disk.").is_visible()
    customer.get_by_role("button", name="Confirm the solution").click()
    customer.get_by_text("Thank you for confirming: the ticket is closed.").wait_for()
    assert customer.locator("#ticket-status").inner_text() == "closed"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED

    customer.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    customer.get_by_role("link", name="Closed").click()
    customer.get_by_role("link", name=ticket.number).wait_for()
    assert violations == []
