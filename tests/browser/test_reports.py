"""The IT manager's dashboard in a real browser: choosing another period
swaps the report in place (HTMX), the address follows, the trend charts are
plain SVG, and the strict CSP has nothing to complain about."""

from __future__ import annotations

import pytest

from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in
from tests.reports import dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def swapped(page, period: str) -> None:
    """Wait for the report of `period`, and for htmx to have processed it: it
    wires up swapped-in content when it settles (20 ms later), and a change
    made before that would go unnoticed."""
    page.locator("#period-label", has_text=period).wait_for()
    page.wait_for_function("() => !document.querySelector('.htmx-added, .htmx-request')")


def test_the_it_manager_opens_the_dashboard_and_changes_the_period(page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    dataset.build(personas)
    dataset.make_reporter("boss", password=PASSWORD)
    complaints: list[str] = []
    page.on(
        "console",
        lambda message: complaints.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )

    log_in(page, live_server, "boss")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("heading", name="Reports", level=1).wait_for()
    page.wait_for_load_state()  # htmx wires the page up once it has loaded
    page.evaluate("window.__notReloaded = true")

    date = page.get_by_label("Date", exact=True)
    date.fill("2026-10-15")
    date.dispatch_event("change")
    swapped(page, "October 2026")
    incidents = page.locator("#kpi-incidents-count .kpi-value")
    assert incidents.inner_text() == "1"  # G was created on 30 October
    assert "day=2026-10-15" in page.url

    page.get_by_role("link", name="Next").click()
    swapped(page, "November 2026")
    assert incidents.inner_text() == "6"
    assert "day=2026-11-01" in page.url
    assert date.input_value() == "2026-11-01"
    assert page.locator("#kpi-incidents-count svg.trend circle").count() >= 1

    page.get_by_label("Period", exact=True).select_option("week")
    swapped(page, "Week 44 of 2026")  # 26 Oct - 1 Nov
    assert "kind=week" in page.url

    page.get_by_label("Grouped").select_option("scorecard")
    page.get_by_role("heading", name="Learning and growth").wait_for()

    assert page.evaluate("window.__notReloaded") is True  # swapped, never reloaded
    assert complaints == []
