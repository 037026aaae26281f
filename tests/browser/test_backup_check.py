"""The morning backup check in a real browser: the engineer opens today's
check, judges a failed run an incident and a missing run no incident (each
with one click, HTMX swapping just that line), and sees the check done."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from backups.models import BackupCheck, BackupProblem, CheckLine, Handling
from backups.services import backup_checks_create, backup_run_report
from tests.backups.factories import make_backup_setup
from tests.base import make_personas
from tests.browser.test_people import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _local_today_at(moment: time) -> datetime:
    """Today's local wall-clock `moment`, so the check's day is the page's today."""
    return datetime.combine(timezone.localdate(), moment, tzinfo=timezone.get_current_timezone())


def test_an_engineer_handles_todays_backup_check(page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    personas.sr.set_password(PASSWORD)  # personas only give the desk staff a password
    personas.sr.save()
    setup = make_backup_setup(personas)
    now = _local_today_at(time(9, 30))
    backup_run_report(
        job=setup.mysql,
        status="failed",
        started_at=_local_today_at(time(1, 0)),
        finished_at=_local_today_at(time(1, 0)) + timedelta(minutes=12),
        message="mysqldump: Got error 2013: Lost connection",
        now=now,
    )
    backup_checks_create(now=now)  # web01-files reported nothing: missing
    check = BackupCheck.objects.get(group=setup.unix)
    failed = CheckLine.objects.get(backup_check=check, job=setup.mysql)
    missing = CheckLine.objects.get(backup_check=check, job=setup.files)
    assert (failed.state, missing.state) == ("failed", "missing")

    log_in(page, live_server, "sr")
    page.get_by_role("heading", name="My open tasks").wait_for()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Backups").click()
    page.get_by_role("heading", name="Backup checks", level=1).wait_for()
    page.get_by_role("link", name="Unix/Linux").click()
    page.get_by_role("heading", name="Last night's runs").wait_for()
    page.evaluate("window.__notReloaded = true")

    # The failed run is an incident: severity and assignee are proposed.
    row = page.locator(f"#line-{failed.pk}")
    row.get_by_text("Lost connection").wait_for()
    incident = row.get_by_role("form", name="Incident", exact=True)
    assert incident.get_by_label("Assignee").input_value() == "sr"
    incident.get_by_label("Severity").select_option("major")
    incident.get_by_label("Note").fill("Dump aborts on the big table")
    incident.get_by_role("button", name="Incident", exact=True).click()
    problem_link = row.get_by_role("link", name="BP-")
    problem_link.wait_for()

    # The missing run: no incident, which needs a reason.
    row = page.locator(f"#line-{missing.pk}")
    no_incident = row.get_by_role("form", name="No incident")
    no_incident.get_by_role("button", name="No incident").click()
    row.get_by_text("This field is required.").wait_for()
    row.get_by_label("Reason").fill("Host was being migrated last night")
    row.get_by_role("button", name="No incident").click()
    row.get_by_text("Host was being migrated last night").wait_for()

    # The status box refreshes by itself: nothing left, the check is done.
    page.locator("#check-status").get_by_text("Check done").wait_for()
    assert page.locator("#open-lines").inner_text() == "0"
    assert page.evaluate("window.__notReloaded") is True

    check.refresh_from_db()
    problem = BackupProblem.objects.get()
    assert check.completed_at is not None
    assert (problem.severity, problem.assignee, problem.description) == (
        "major",
        personas.sr,
        "Dump aborts on the big table",
    )
    missing.refresh_from_db()
    assert (missing.handling, missing.reason) == (
        Handling.NO_INCIDENT,
        "Host was being migrated last night",
    )

    # The problem's page is one click away.
    page.get_by_role("link", name=problem.number).click()
    page.get_by_role(
        "heading", name=f"{problem.number} · web01-mysql (web01.example.nl)"
    ).wait_for()
