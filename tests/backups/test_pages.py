"""The backup pages: who may open them, handling a check's lines (with and
without HTMX), the problems, job configuration and restore tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from backups.models import (
    BackupCheck,
    BackupJob,
    BackupProblem,
    CheckLine,
    Handling,
    LineState,
    ProblemStatus,
    RestoreTest,
)
from backups.services import backup_checks_create, backup_run_report, check_line_handle
from events.services import history_of
from tests.backups.factories import BackupSetup, make_backup_setup, make_job
from tests.base import Personas, make_user
from tickets.models import Task, TaskStatus

# Tuesday 10 March 2026, winter time (CET = UTC+1): 09:30 local.
NOW = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
DAY = date(2026, 3, 10)


@dataclass
class Checked:
    setup: BackupSetup
    unix: BackupCheck  # mysql failed, files missing
    windows: BackupCheck  # win ok

    def line(self, job: BackupJob) -> CheckLine:
        return CheckLine.objects.get(job=job, backup_check__day=DAY)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def checked(personas: Personas, frozen: None) -> Checked:
    setup = make_backup_setup(personas)
    backup_run_report(
        job=setup.mysql,
        status="failed",
        started_at=datetime(2026, 3, 10, 0, 0, tzinfo=UTC),
        finished_at=datetime(2026, 3, 10, 0, 20, tzinfo=UTC),
        message="mysqldump: Got error 2013: Lost connection",
        now=NOW,
    )
    backup_run_report(
        job=setup.win,
        status="success",
        started_at=datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
        finished_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
        size_bytes=5_000_000,
        now=NOW,
    )
    backup_checks_create(now=NOW)
    return Checked(
        setup=setup,
        unix=BackupCheck.objects.get(group=setup.unix, day=DAY),
        windows=BackupCheck.objects.get(group=setup.windows, day=DAY),
    )


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def handle(client: Client, line: CheckLine, htmx: bool = False, **data: str) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/backups/lines/{line.pk}/handle/", data, headers=headers)


def problem_of(checked: Checked, personas: Personas) -> BackupProblem:
    line = checked.line(checked.setup.mysql)
    check_line_handle(
        line=line, handling=Handling.INCIDENT, actor=personas.sr, now=NOW, severity="minor"
    )
    return BackupProblem.objects.get()


def test_it_shows_every_page_to_an_engineer(personas: Personas, checked: Checked) -> None:
    number = str(problem_of(checked, personas).number)
    client = logged_in(personas.jr)
    pages: dict[str, list[str]] = {
        "/backups/": ["Unix/Linux", "Windows", "Sr", "Jr"],
        f"/backups/checks/{checked.unix.pk}/": ["web01-mysql", "Lost connection", "missing"],
        "/backups/problems/": [number, "web01-mysql", "Hoogendijk Logistiek"],
        f"/backups/problems/{number}/": [number, "web01.example.nl"],
        "/backups/jobs/": ["web01-mysql", "win01-files", "Korenschoof"],
        "/backups/jobs/web01-mysql/": ["backup3:/srv/backups", "backup_job.created"],
        "/backups/jobs/new/": ["Weekday digits"],
        "/backups/jobs/web01-mysql/edit/": ["web01-mysql"],
        "/backups/restore-tests/": ["Record a restore test"],
    }
    for url, texts in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        for text in texts:
            assert text in page, (url, text)


def test_the_checks_page_links_todays_checks_and_lists_earlier_days(
    personas: Personas, checked: Checked
) -> None:
    BackupCheck.objects.filter(pk=checked.windows.pk).update(day=DAY - timedelta(days=1))
    page = logged_in(personas.sr).get("/backups/").content.decode()
    today, recent = page.split('id="recent"')
    assert f'href="/backups/checks/{checked.unix.pk}/"' in today
    assert f'href="/backups/checks/{checked.windows.pk}/"' in recent


def test_others_are_kept_out(personas: Personas, checked: Checked) -> None:
    urls = [
        "/backups/",
        f"/backups/checks/{checked.unix.pk}/",
        "/backups/problems/",
        "/backups/jobs/",
        "/backups/jobs/web01-mysql/",
        "/backups/restore-tests/",
    ]
    for url in urls:
        assert Client().get(url).status_code == 302, url  # to the login page
        assert logged_in(personas.customer_user).get(url).status_code == 404, url
        assert logged_in(personas.sales).get(url).status_code == 403, url


def test_a_viewer_reads_but_cannot_handle_or_configure(
    personas: Personas, checked: Checked
) -> None:
    viewer = logged_in(make_user("viewer", roles=(Role.VIEWER,)))
    page = viewer.get(f"/backups/checks/{checked.unix.pk}/").content.decode()
    assert "web01-mysql" in page and "No incident" not in page
    line = checked.line(checked.setup.mysql)
    assert handle(viewer, line, handling="no_incident", reason="known").status_code == 403
    assert viewer.post(f"/backups/checks/{checked.windows.pk}/complete/").status_code == 403
    assert viewer.get("/backups/jobs/new/").status_code == 403
    assert viewer.get("/backups/jobs/web01-mysql/edit/").status_code == 403
    response = viewer.post(
        "/backups/restore-tests/",
        {"job": "web01-mysql", "performed_on": "2026-03-09", "result": "success"},
    )
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.handling == "" and not RestoreTest.objects.exists()


def test_unknown_objects_answer_404(personas: Personas, checked: Checked) -> None:
    client = logged_in(personas.jr)
    for url in [
        "/backups/checks/999999/",
        "/backups/problems/BP-999999/",
        "/backups/jobs/nope/",
        "/backups/jobs/nope/edit/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post("/backups/lines/999999/handle/", {}).status_code == 404
    assert client.post("/backups/checks/999999/complete/").status_code == 404


def test_no_incident_without_a_reason_shows_the_error_and_stores_nothing(
    personas: Personas, checked: Checked
) -> None:
    client = logged_in(personas.sr)
    line = checked.line(checked.setup.files)
    response = handle(client, line, handling="no_incident", reason="  ")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page and "<html" in page
    htmx = handle(client, line, htmx=True, handling="no_incident", reason="")
    assert htmx.status_code == 200
    assert "This field is required." in htmx.content.decode()
    assert "HX-Trigger" not in htmx
    line.refresh_from_db()
    assert (line.handling, line.handled_at) == ("", None)


def test_no_incident_with_a_reason_is_recorded(personas: Personas, checked: Checked) -> None:
    client = logged_in(personas.sr)
    line = checked.line(checked.setup.files)
    response = handle(client, line, handling="no_incident", reason="Maintenance on web01")
    assert response["Location"] == f"/backups/checks/{checked.unix.pk}/"
    line.refresh_from_db()
    assert (line.handling, line.reason, line.handled_by) == (
        "no_incident",
        "Maintenance on web01",
        personas.sr,
    )


def test_an_incident_registers_a_problem_with_a_task(personas: Personas, checked: Checked) -> None:
    client = logged_in(personas.jr)
    line = checked.line(checked.setup.mysql)
    url = f"/backups/checks/{checked.unix.pk}/"
    page = client.get(url).content.decode()
    # The incident form proposes the line's severity and the group's checker:
    # a failed incremental is minor, unless the night before failed too.
    assert '<option value="minor" selected>' in page
    assert '<option value="sr" selected>' in page
    backup_run_report(
        job=checked.setup.mysql,
        status="failed",
        started_at=datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        now=NOW,
    )
    assert '<option value="major" selected>' in client.get(url).content.decode()
    response = handle(
        client, line, handling="incident", severity="minor", assignee="head", description="Disk"
    )
    assert response.status_code == 302
    problem = BackupProblem.objects.get()
    assert (problem.job, problem.severity, problem.assignee, problem.status) == (
        checked.setup.mysql,
        "minor",
        personas.head,
        ProblemStatus.OPEN,
    )
    assert problem.task is not None and problem.task.assignee == personas.head
    line.refresh_from_db()
    assert (line.handling, line.problem) == ("incident", problem)
    page = client.get(f"/backups/checks/{checked.unix.pk}/").content.decode()
    assert f'href="/backups/problems/{problem.number}/"' in page


def test_an_unknown_assignee_is_a_form_error(personas: Personas, checked: Checked) -> None:
    line = checked.line(checked.setup.mysql)
    response = handle(
        logged_in(personas.sr), line, handling="incident", severity="major", assignee="customer1"
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not BackupProblem.objects.exists()


def test_htmx_gets_only_the_line_row_and_a_refresh_signal(
    personas: Personas, checked: Checked
) -> None:
    client = logged_in(personas.sr)
    line = checked.line(checked.setup.files)
    response = handle(client, line, htmx=True, handling="no_incident", reason="Host retired")
    body = response.content.decode().strip()
    assert body.startswith(f'<tr id="line-{line.pk}"') and body.endswith("</tr>")
    assert "<html" not in body and "Host retired" in body and "<form" not in body
    assert response["HX-Trigger"] == "backup-line-handled"
    status = client.get(
        f"/backups/checks/{checked.unix.pk}/?part=status", headers={"HX-Request": "true"}
    )
    assert status.content.decode().strip().startswith('<section class="card" id="check-status"')


def test_handling_the_last_line_completes_the_check(personas: Personas, checked: Checked) -> None:
    client = logged_in(personas.sr)
    handle(client, checked.line(checked.setup.files), handling="no_incident", reason="Retired")
    handle(
        client,
        checked.line(checked.setup.mysql),
        handling="incident",
        severity="major",
        assignee="sr",
    )
    check = BackupCheck.objects.get(pk=checked.unix.pk)
    assert check.completed_at == NOW
    assert check.task is not None and check.task.status == TaskStatus.CLOSED
    page = client.get(f"/backups/checks/{check.pk}/").content.decode()
    assert "Lead time" in page and "Check done" in page


def test_a_check_with_only_good_runs_is_confirmed_with_the_button(
    personas: Personas, checked: Checked
) -> None:
    url = f"/backups/checks/{checked.windows.pk}/"
    client = logged_in(personas.jr)
    page = client.get(url).content.decode()
    assert f'action="{url}complete/"' in page
    assert client.post(f"{url}complete/")["Location"] == url
    checked.windows.refresh_from_db()
    assert checked.windows.completed_at == NOW
    page = client.get(url).content.decode()
    assert f'action="{url}complete/"' not in page
    again = client.post(f"{url}complete/", follow=True).content.decode()
    assert "This check is done already." in again


def test_a_check_with_open_lines_has_no_done_button(personas: Personas, checked: Checked) -> None:
    url = f"/backups/checks/{checked.unix.pk}/"
    client = logged_in(personas.sr)
    assert f'action="{url}complete/"' not in client.get(url).content.decode()
    page = client.post(f"{url}complete/", follow=True).content.decode()
    assert "Handle every warning" in page
    checked.unix.refresh_from_db()
    assert checked.unix.completed_at is None


def test_a_problem_is_analysed_and_solved(personas: Personas, checked: Checked) -> None:
    problem = problem_of(checked, personas)
    url = f"/backups/problems/{problem.number}/"
    client = logged_in(personas.sr)  # the assignee
    early = client.post(f"{url}solve/", {"solution": "Restarted MySQL", "cause": ""})
    assert early.status_code == 400
    assert "Record the cause before the solution." in early.content.decode()
    empty = client.post(f"{url}analyse/", {"cause": ""})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    assert client.post(f"{url}analyse/", {"cause": "max_allowed_packet"})["Location"] == url
    problem.refresh_from_db()
    assert (problem.status, problem.cause, problem.picked_up_at) == (
        ProblemStatus.IN_PROGRESS,
        "max_allowed_packet",
        NOW,
    )
    assert (
        client.post(f"{url}solve/", {"solution": "Raised the limit", "cause": ""}).status_code
        == 302
    )
    problem.refresh_from_db()
    assert (problem.status, problem.solution) == (ProblemStatus.SOLVED, "Raised the limit")
    assert problem.task is not None
    assert Task.objects.get(pk=problem.task.pk).status == TaskStatus.CLOSED
    page = client.get(url).content.decode()
    assert "Raised the limit" in page and "backup_problem.transition" in page
    assert "Save analysis" not in page
    board = client.get("/backups/problems/").content.decode()
    assert str(problem.number) in board.split('id="column-solved"')[1]


def test_only_the_assignee_or_a_coordinator_changes_a_problem(
    personas: Personas, checked: Checked
) -> None:
    problem = problem_of(checked, personas)  # assigned to sr
    url = f"/backups/problems/{problem.number}/"
    jr = logged_in(personas.jr)
    assert "Save analysis" not in jr.get(url).content.decode()
    assert jr.post(f"{url}analyse/", {"cause": "guess"}).status_code == 403
    head = logged_in(personas.head)  # heads may change any backup problem
    assert head.post(f"{url}analyse/", {"cause": "Disk full"}).status_code == 302
    problem.refresh_from_db()
    assert problem.cause == "Disk full"


JOB_FORM = {
    "reference": "db02-plesk",
    "customer": "1000",
    "hostname": "db02.example.nl",
    "kind": "plesk",
    "os_family": "unix",
    "full_days": "6",
    "incremental_days": "012345",
    "starts_at": "02:30",
    "expected_finish": "06:00",
    "storage_location": "backup4:/srv",
    "group": "unix",
    "restore_interval_days": "91",
    "active": "on",
}


def test_a_job_is_created_and_edited_with_its_history(personas: Personas, checked: Checked) -> None:
    client = logged_in(personas.jr)
    unknown = client.post("/backups/jobs/new/", {**JOB_FORM, "customer": "3000"})
    assert unknown.status_code == 400
    assert "No active customer has this number." in unknown.content.decode()
    bad = client.post("/backups/jobs/new/", {**JOB_FORM, "full_days": "7"})
    assert bad.status_code == 400 and "Use weekday digits" in bad.content.decode()
    bad = client.post("/backups/jobs/new/", {**JOB_FORM, "full_days": "06"})
    assert "A night is either a full or an incremental backup." in bad.content.decode()
    response = client.post("/backups/jobs/new/", JOB_FORM)
    assert response["Location"] == "/backups/jobs/db02-plesk/"
    job = BackupJob.objects.get(reference="db02-plesk")
    assert (job.customer, job.starts_at, job.configured_by) == (
        personas.customer,
        time(2, 30),
        personas.jr,
    )
    edit = client.post(
        "/backups/jobs/db02-plesk/edit/",
        {**JOB_FORM, "full_days": "5", "incremental_days": "0,1,2,3,4,6"},
    )
    assert edit["Location"] == "/backups/jobs/db02-plesk/"
    job.refresh_from_db()
    assert (job.full_days, job.incremental_days) == ("5", "012346")
    configured = history_of(job).get(kind="backup_job.configured")
    assert configured.data["changes"] == {
        "full_days": ["6", "5"],
        "incremental_days": ["012345", "012346"],
    }
    page = client.get("/backups/jobs/db02-plesk/").content.decode()
    assert "backup_job.configured" in page and "012345 → 012346" in page


def test_a_job_edit_form_starts_from_the_configuration(
    personas: Personas, checked: Checked
) -> None:
    page = logged_in(personas.jr).get("/backups/jobs/web01-files/edit/").content.decode()
    assert 'value="23:00"' in page and 'value="1000"' in page and 'value="012346"' in page


def test_a_restore_test_is_recorded(personas: Personas, checked: Checked) -> None:
    BackupJob.objects.filter(pk=checked.setup.win.pk).update(restore_due_on=DAY - timedelta(days=2))
    client = logged_in(personas.jr)
    page = client.get("/backups/restore-tests/?job=win01-files").content.decode()
    assert "overdue" in page and 'value="win01-files" selected' in page
    future = client.post(
        "/backups/restore-tests/",
        {"job": "win01-files", "performed_on": "2026-03-11", "result": "success"},
    )
    assert future.status_code == 400
    assert "A restore test cannot be in the future." in future.content.decode()
    response = client.post(
        "/backups/restore-tests/",
        {"job": "win01-files", "performed_on": "2026-03-09", "result": "success", "notes": "ok"},
    )
    assert response["Location"] == "/backups/restore-tests/"
    test = RestoreTest.objects.get()
    assert (test.job, test.performed_by, test.result) == (checked.setup.win, personas.jr, "success")
    checked.setup.win.refresh_from_db()
    assert checked.setup.win.restore_due_on == date(2026, 3, 9) + timedelta(days=91)


def test_the_job_list_filters(personas: Personas, checked: Checked) -> None:
    client = logged_in(personas.jr)
    page = client.get("/backups/jobs/?customer=2000&group=&kind=&active=yes").content.decode()
    assert "win01-files" in page and "web01-mysql" not in page
    page = client.get("/backups/jobs/?customer=&group=unix&kind=files&active=").content.decode()
    assert "web01-files" in page and "web01-mysql" not in page and "win01-files" not in page
    BackupJob.objects.filter(reference="web01-files").update(active=False)
    assert "web01-files" not in client.get("/backups/jobs/").content.decode()
    page = client.get("/backups/jobs/?active=no").content.decode()
    assert "web01-files" in page and "web01-mysql" not in page


def test_the_job_list_query_count_does_not_grow_with_the_jobs(
    personas: Personas, checked: Checked
) -> None:
    client = logged_in(personas.jr)
    client.get("/backups/jobs/")  # warm up the session and content types
    with CaptureQueriesContext(connection) as few:
        assert "web01-mysql" in client.get("/backups/jobs/").content.decode()
    for n in range(12):
        job = make_job(
            personas, checked.setup.windows, f"host{n:02d}-files", customer=personas.other_customer
        )
        backup_run_report(
            job=job, status="warning", started_at=NOW - timedelta(hours=n + 1), now=NOW
        )
    with CaptureQueriesContext(connection) as many:
        assert "host11-files" in client.get("/backups/jobs/").content.decode()
    assert len(many) == len(few)


def test_the_task_of_a_check_links_to_the_check(personas: Personas, checked: Checked) -> None:
    task = checked.unix.task
    assert task is not None
    page = logged_in(personas.sr).get(f"/tasks/{task.public_id}/").content.decode()
    assert (
        f'<a href="/backups/checks/{checked.unix.pk}/">backup check Unix/Linux 2026-03-10</a>'
        in page
    )


def test_a_late_report_shows_on_the_check(personas: Personas, checked: Checked) -> None:
    backup_run_report(
        job=checked.setup.files,
        status="success",
        started_at=datetime(2026, 3, 9, 22, 0, tzinfo=UTC),
        now=NOW,
    )
    assert checked.line(checked.setup.files).state == LineState.OK
    page = logged_in(personas.sr).get(f"/backups/checks/{checked.unix.pk}/").content.decode()
    assert page.count('class="unclassified"') == 1  # only the failed mysql line is left


def test_before_the_check_hour_today_is_empty_and_yesterday_is_recent(
    personas: Personas, checked: Checked
) -> None:
    with time_machine.travel(datetime(2026, 3, 11, 6, 0, tzinfo=UTC), tick=False):
        page = logged_in(personas.sr).get("/backups/").content.decode()
    today, recent = page.split('id="recent"')
    assert "No checks yet today; they are made at 09:00." in today
    assert f'href="/backups/checks/{checked.unix.pk}/"' in recent
