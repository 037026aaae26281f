"""An engineer submits a major change in the browser, the change manager
decides it in the CAB view, and the requester sees the decision."""

from __future__ import annotations

import re

import pytest

from changes.models import Change
from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_major_change_from_submission_to_decision(new_page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    personas.cm.set_password(PASSWORD)
    personas.cm.save()

    engineer = new_page()
    log_in(engineer, live_server, "jr")
    engineer.goto(f"{live_server.url}/changes/new/")
    engineer.get_by_label("Subject").fill("Upgrade MySQL on db01 to 8.4")
    engineer.get_by_label("Description").fill("5.7 is out of support.")
    engineer.get_by_label("Customer number").fill("1000")
    engineer.get_by_label("Affected machines (host names, comma separated)").fill("db01")
    question = engineer.get_by_role(
        "group", name="Dependencies on other applications or environments?"
    )
    question.get_by_label("Yes").check()
    question.get_by_label("Why?").fill("The webshop and the ERP use this database.")
    engineer.get_by_label("Implementation plan").fill("Dump, upgrade, check the shop.")
    engineer.get_by_label("Rollback plan").fill("Restore the dump on 5.7.")
    engineer.get_by_role("button", name="Submit change").click()
    engineer.get_by_text(re.compile(r"Change C-\d+ submitted\.")).wait_for()
    change = Change.objects.get()
    assert (change.classification, change.status) == ("major", "awaiting_cab")

    manager = new_page()
    log_in(manager, live_server, "cm")
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="CAB").click()
    card = manager.locator(f"#change-{change.number}")
    card.get_by_text("The webshop and the ERP use this database.").wait_for()
    card.get_by_role("button", name="Approve").click()
    manager.wait_for_load_state()
    change.refresh_from_db()
    assert (change.status, change.decision) == ("approved", "approved")

    engineer.goto(f"{live_server.url}/changes/{change.number}/")
    assert engineer.locator("#change-status").inner_text() == "approved"
    engineer.get_by_role("heading", name="Decision").wait_for()
    engineer.get_by_role("button", name="Start the change").wait_for()
