"""The CAB in a real browser: an engineer's major change is on the agenda, a
CAB member advises, the change manager reads the advice and approves, and the
requester sees the decision."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from changes.cab import change_put_on_agenda
from changes.models import Change, ChangeStatus
from changes.services import change_submit
from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_major_change_is_advised_and_approved_at_the_cab(new_page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    for person in (personas.sr, personas.cm):  # personas only give the desk staff a password
        person.set_password(PASSWORD)
        person.save()
    now = timezone.now()
    change = change_submit(
        subject="Move the shop database to PostgreSQL 17",
        message="Version 12 is out of support",
        impact="high",
        urgency="medium",
        answers={
            "multiple_users": True,
            "dependencies": True,
            "unsupported": False,
            "investment": False,
        },
        justifications={
            "multiple_users": "Every shop customer",
            "dependencies": "The order service reads it",
        },
        actor=personas.jr,
        now=now,
        customer=personas.customer,
        implementation_plan="Replicate, switch over at night",
        rollback_plan="Switch back to the old primary",
    )
    meeting = change_put_on_agenda(change=change, now=now)
    assert meeting is not None
    cab_url = f"{live_server.url}/changes/cab/"

    member = new_page()
    log_in(member, live_server, "sr")
    member.get_by_role("heading", name="My open tasks").wait_for()
    member.goto(cab_url)
    card = member.locator(f"#change-{change.number}")
    card.get_by_text("Every shop customer").wait_for()
    card.get_by_role("group", name="Technically feasible?").get_by_label("yes").check()
    card.get_by_role("group", name="Within budget?").get_by_label("yes").check()
    card.get_by_label("Remarks").fill("Test the switch-over on staging first")
    card.get_by_role("button", name="Save advice").click()
    member.get_by_text(f"Advice on {change.number} saved.").wait_for()

    manager = new_page()
    log_in(manager, live_server, "cm")
    manager.get_by_role("heading", name="My open tasks").wait_for()
    manager.goto(cab_url)
    card = manager.locator(f"#change-{change.number}")
    advice = card.get_by_role("table", name=f"Advice on {change.number}")
    advice.get_by_role("row", name=re.compile("Sr")).get_by_text(
        "Test the switch-over on staging first"
    ).wait_for()
    card.get_by_role("button", name="Approve").click()
    manager.get_by_text(f"{change.number} is approved.").wait_for()
    card.locator(".decision-approved").wait_for()
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ChangeStatus.APPROVED, personas.cm)

    requester = new_page()
    log_in(requester, live_server, "jr")
    requester.get_by_role("heading", name="My open tasks").wait_for()
    requester.goto(f"{live_server.url}/changes/cab/{meeting.pk}/")
    card = requester.locator(f"#change-{change.number}")
    assert card.locator(".decision-approved").inner_text() == "approved"
    try:
        detail = reverse("change-detail", args=[change.number])
    except NoReverseMatch:  # the change page is not there: the meeting page said it
        return
    requester.goto(f"{live_server.url}{detail}")
    requester.get_by_text("approved", exact=True).first.wait_for()
    assert Change.objects.get().status == ChangeStatus.APPROVED
