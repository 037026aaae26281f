"""An engineer takes a ticket from the queue: classifies, answers, escalates
(the head of department approves) and resolves it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in
from tickets.models import Task, Ticket, TicketStatus
from tickets.services import ticket_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_engineer_works_a_ticket_from_the_queue(new_page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    personas.head.set_password(PASSWORD)
    personas.head.save()
    ticket = ticket_create(
        customer=personas.customer,
        subject="Webshop returns 502",
        message="Since 09:00 the shop is down.",
        type="incident",
        channel="portal",
        actor=personas.customer_user,
        now=timezone.now(),
    )
    engineer = new_page()
    log_in(engineer, live_server, "jr")
    engineer.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    row = engineer.get_by_role("row").filter(has_text="Webshop returns 502")
    assert "to classify" in row.inner_text()
    row.get_by_role("link", name=ticket.number).click()
    engineer.get_by_role("heading", name=re.compile("Webshop returns 502")).wait_for()

    classify = engineer.locator("form[action$='/classify/']")
    classify.get_by_label("Impact").select_option("high")
    classify.get_by_label("Urgency").select_option("high")
    classify.get_by_label("Category").select_option("network")
    classify.get_by_role("button", name="Save classification").click()
    engineer.get_by_text("Classified as P1.").wait_for()

    assign = engineer.locator("form[action$='/assign/']")
    assign.get_by_label("Assignee").select_option("jr")
    assign.get_by_role("button", name="Save assignment").click()
    engineer.get_by_text("Assignment saved.").wait_for()

    reply = engineer.locator("form[action$='/reply/']")
    reply.get_by_label("Message").fill("We are looking at the load balancer.")
    reply.get_by_role("button", name="Send").click()
    engineer.get_by_text("Reply sent.").wait_for()
    engineer.get_by_text("First public reply: the response target is met here.").wait_for()

    escalate = engineer.locator("form[action$='/escalate/']")
    escalate.get_by_label("What was tried").fill("Restarted both nodes with Sanne; still 502.")
    escalate.get_by_role("button", name="Request escalation").click()
    engineer.get_by_text("Try it together with a colleague first, then confirm.").wait_for()
    escalate = engineer.locator("form[action$='/escalate/']")
    escalate.get_by_label("What was tried").fill("Restarted both nodes with Sanne; still 502.")
    escalate.get_by_label("We first tried to solve it together with a colleague").check()
    escalate.get_by_role("button", name="Request escalation").click()
    engineer.get_by_text("Escalation requested from the head of department.").wait_for()

    head = new_page()
    log_in(head, live_server, "head")
    head.goto(f"{live_server.url}/tickets/{ticket.number}/")
    decide = head.locator("form[action$='/escalation/decide/']")
    decide.get_by_label("Decision").select_option("approve")
    decide.get_by_label("Senior engineer").select_option("sr")
    decide.get_by_role("button", name="Decide").click()
    head.get_by_text("Escalation decided.").wait_for()
    assert Task.objects.get(assignee=personas.sr).link == ticket

    engineer.reload()
    assert engineer.locator("#ticket-status").inner_text() == "escalated"
    resolve = engineer.locator("form[action$='/resolve/']")
    resolve.get_by_label("Resolution:", exact=True).select_option("solved")
    resolve.get_by_label("Cause code").select_option("configuration")
    resolve.get_by_label("Resolution for the customer").fill("A wrong health check; fixed.")
    resolve.get_by_role("button", name="Resolve ticket").click()
    engineer.get_by_text("Resolved; the customer has been told.").wait_for()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.escalated) == (TicketStatus.RESOLVED, 1, True)
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is not None
