"""The other pages of the engineer's desk in a real browser: a phone call
becomes a ticket, the knowledge base is searched and linked from the ticket,
a problem record is started from it, customer history and a ticket filed on
behalf of a customer."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in
from tickets.kb_services import article_create
from tickets.models import Problem, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_call_becomes_a_ticket_with_an_article_and_a_problem(page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    article_create(
        data={
            "title": "Webmail login loops",
            "symptom": "After login webmail returns to the login page",
            "cause": "Expired session cookie domain",
            "solution": "Clear cookies for the webmail domain",
        },
        actor=personas.sr,
        now=timezone.now(),
    )
    log_in(page, live_server, "jr")
    main_nav = page.get_by_role("navigation", name="Main")

    main_nav.get_by_role("link", name="Calls").click()
    page.get_by_label("Phone number").fill("+31 10 555 0100")
    page.get_by_label("Customer number (if known)").fill("1000")
    page.get_by_label("Summary").fill("Webmail login loops for all users")
    page.get_by_role("button", name="Save call").click()
    page.get_by_text("Call noted.").wait_for()
    page.get_by_text("Make a ticket").click()
    page.get_by_role("button", name="Make ticket").click()
    page.get_by_role("heading", name=re.compile("Webmail login loops for all users")).wait_for()
    ticket = Ticket.objects.get()
    assert ticket.channel == "phone"

    page.get_by_label("Search articles").fill("webmail login")
    results = page.locator("#article-results")
    results.get_by_text("Webmail login loops").wait_for()
    results.get_by_role("button", name="Link to ticket").click()
    page.get_by_text("Article linked.").wait_for()

    page.get_by_role("link", name="New problem from this ticket").click()
    page.get_by_label("Description").fill("Login loops after every certificate renewal")
    page.get_by_role("button", name="Save problem").click()
    problem = Problem.objects.get()
    page.get_by_role("heading", name=re.compile(str(problem.number))).wait_for()
    page.get_by_label("New status").select_option("known_error")
    page.get_by_label("Workaround").fill("Clear cookies for the webmail domain")
    page.get_by_role("button", name="Change status").click()
    page.get_by_role("heading", name=re.compile("known error")).wait_for()

    main_nav.get_by_role("link", name="Problems").click()
    page.get_by_role("link", name=str(problem.number)).wait_for()
    main_nav.get_by_role("link", name="Knowledge base").click()
    page.get_by_role("link", name="Webmail login loops").click()
    page.get_by_role("heading", name="Used on 1 ticket").wait_for()


def test_a_ticket_for_a_customer_and_their_history(page, live_server) -> None:
    make_personas(password=PASSWORD)
    log_in(page, live_server, "jr")
    page.goto(f"{live_server.url}/queue/")
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Customer number").fill("2000")
    page.get_by_label("Subject").fill("Order page shows prices without VAT")
    page.get_by_label("Message").fill("Reported by phone by the shop owner.")
    page.get_by_label("Type").select_option("incident")
    page.get_by_label("Category").select_option("software")
    page.get_by_role("button", name="Create ticket").click()
    page.get_by_text(re.compile(r"Ticket T-\d+ created\.")).wait_for()
    page.goto(f"{live_server.url}/queue/")
    page.get_by_role("link", name="Customer history").click()
    page.get_by_label("Customer number or name").fill("koren")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("cell", name="Order page shows prices without VAT").wait_for()
    page.goto(f"{live_server.url}/queue/")
    page.get_by_label("Search", exact=True).fill("VAT")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("cell", name="Order page shows prices without VAT").wait_for()
