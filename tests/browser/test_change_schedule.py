"""The change manager reads the forward schedule: two changes on one machine
at the same time are flagged, the month view shows them too, and the iCal
feed behind the page's link is a calendar."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from changes.services import change_decide, change_start, change_submit
from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NO = {"multiple_users": False, "dependencies": False, "unsupported": False, "investment": False}


def test_the_change_manager_sees_overlapping_changes_on_the_schedule(page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    personas.cm.set_password(PASSWORD)
    personas.cm.save()
    now = timezone.now()
    # Today, so the default week view and this month's view both show them.
    ten = timezone.make_aware(datetime.combine(timezone.localdate(now), time(10, 0)))
    common: dict[str, Any] = {
        "message": "Planned maintenance",
        "impact": "medium",
        "urgency": "low",
        "actor": personas.jr,
        "now": now,
        "customer": personas.customer,
        "affected_machines": ["web01"],
        "implementation_plan": "upgrade",
        "rollback_plan": "downgrade",
    }
    kernel = change_submit(
        subject="Kernel update",
        answers={**NO, "multiple_users": True},
        justifications={"multiple_users": "Every shop on web01 restarts"},
        planned_start=ten,
        planned_end=ten + timedelta(hours=2),
        **common,
    )
    change_decide(change=kernel, decision="approved", actor=personas.cm, now=now)
    php = change_submit(
        subject="PHP 8.3",
        answers=NO,
        justifications={},
        planned_start=ten + timedelta(hours=1),
        planned_end=ten + timedelta(hours=3),
        **common,
    )
    change_start(change=php, actor=personas.jr, now=now)

    log_in(page, live_server, "cm")
    page.wait_for_url(f"{live_server.url}/**")
    page.goto(f"{live_server.url}/changes/schedule/")
    page.get_by_role("heading", name="Forward schedule").wait_for()
    warnings = page.get_by_role("region", name="Overlapping changes")
    assert warnings.is_visible()
    assert warnings.get_by_role("link", name=kernel.number or "").is_visible()
    assert warnings.get_by_role("link", name=php.number or "").is_visible()
    assert "both on web01" in warnings.inner_text()
    today = page.locator('.schedule-week [aria-current="date"]')
    assert today.locator(".schedule-entry.clash").count() == 2

    page.get_by_role("navigation", name="Calendar view").get_by_role("link", name="Month").click()
    page.get_by_role("heading", name=timezone.localdate(now).strftime("%B %Y")).wait_for()
    assert "month=" in page.url
    assert page.locator('.schedule-month [aria-current="date"] .schedule-entry').count() == 2

    link = page.get_by_role("link", name="iCalendar feed")
    feed = page.request.get(live_server.url + (link.get_attribute("href") or ""))
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert f"UID:{kernel.number}@servicedesk" in feed.text()
    assert f"UID:{php.number}@servicedesk" in feed.text()
