"""Handling a check's lines, backup problems and their follow-up, restore
tests, the daily report and the audited job configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from backups.models import (
    BackupCheck,
    BackupProblem,
    CheckLine,
    DailyReport,
    Handling,
    ProblemStatus,
)
from backups.services import (
    backup_check_complete,
    backup_checks_create,
    backup_job_save,
    backup_problem_analyse,
    backup_problem_solve,
    backup_problems_follow_up,
    backup_run_report,
    check_line_handle,
    daily_report_create,
    line_default_severity,
    restore_test_record,
)
from backups.tasks import follow_up_problems, send_daily_report
from events.models import Event
from events.services import history_of
from events.tasks import send_notifications
from tests.backups.factories import BackupSetup, make_backup_setup
from tests.backups.test_daily_check import WED, WED_0900, WED_1030
from tests.base import Personas
from tickets.models import Task, TaskStatus

MYSQL_START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
FILES_START = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


@pytest.fixture
def setup(personas: Personas) -> BackupSetup:
    return make_backup_setup(personas)


@pytest.fixture
def unix_check(setup: BackupSetup) -> BackupCheck:
    """Wednesday's Unix check: mysql failed, files ok."""
    backup_run_report(job=setup.mysql, status="failed", started_at=MYSQL_START, now=WED_0900)
    backup_run_report(job=setup.files, status="success", started_at=FILES_START, now=WED_0900)
    backup_checks_create(now=WED_0900)
    return BackupCheck.objects.get(group=setup.unix)


def line_of(check: BackupCheck, reference: str) -> CheckLine:
    return check.lines.get(job__reference=reference)


def test_no_incident_needs_a_reason_and_stores_nothing_without_one(
    personas: Personas, unix_check: BackupCheck
) -> None:
    line = line_of(unix_check, "web01-mysql")
    with pytest.raises(ValidationError) as error:
        check_line_handle(line=line, handling=Handling.NO_INCIDENT, actor=personas.sr, now=WED_1030)
    assert "reason" in error.value.message_dict
    line.refresh_from_db()
    assert line.handling == "" and line.handled_at is None


def test_handling_the_last_open_line_completes_the_check_and_closes_its_task(
    personas: Personas, unix_check: BackupCheck
) -> None:
    check_line_handle(
        line=line_of(unix_check, "web01-mysql"),
        handling=Handling.NO_INCIDENT,
        reason="Lock timeout; tonight's run will catch up",
        actor=personas.sr,
        now=WED_1030,
    )
    unix_check.refresh_from_db()
    assert unix_check.completed_at == WED_1030
    assert unix_check.lead_time == WED_1030 - WED_0900
    task = Task.objects.get(pk=unix_check.task_id or 0)
    assert task.status == TaskStatus.CLOSED


def test_a_line_that_is_ok_or_handled_cannot_be_handled(
    personas: Personas, unix_check: BackupCheck
) -> None:
    with pytest.raises(ValidationError):
        check_line_handle(
            line=line_of(unix_check, "web01-files"),
            handling=Handling.NO_INCIDENT,
            reason="x",
            actor=personas.sr,
            now=WED_1030,
        )
    line = line_of(unix_check, "web01-mysql")
    check_line_handle(
        line=line, handling=Handling.NO_INCIDENT, reason="known", actor=personas.sr, now=WED_1030
    )
    with pytest.raises(ValidationError):
        check_line_handle(
            line=line,
            handling=Handling.NO_INCIDENT,
            reason="again",
            actor=personas.sr,
            now=WED_1030,
        )


def test_someone_without_the_right_cannot_handle_a_check(
    personas: Personas, unix_check: BackupCheck
) -> None:
    with pytest.raises(PermissionDenied):
        check_line_handle(
            line=line_of(unix_check, "web01-mysql"),
            handling=Handling.NO_INCIDENT,
            reason="x",
            actor=personas.sales,
            now=WED_1030,
        )


def test_an_incident_registers_a_problem_for_the_responsible_colleague_by_task(
    personas: Personas, unix_check: BackupCheck
) -> None:
    line = check_line_handle(
        line=line_of(unix_check, "web01-mysql"),
        handling=Handling.INCIDENT,
        reason="mysqldump lost its connection",
        assignee=personas.jr,
        actor=personas.sr,
        now=WED_1030,
    )
    problem = line.problem
    assert problem is not None
    assert problem.number == f"BP-{problem.pk:06d}"
    assert problem.assignee == personas.jr and problem.status == ProblemStatus.OPEN
    assert problem.severity == "minor"  # incremental, first failure
    task = Task.objects.get(pk=problem.task_id or 0)
    assert (task.assignee, task.creator, task.link) == (personas.jr, personas.sr, problem)
    unix_check.refresh_from_db()
    assert unix_check.completed_at == WED_1030  # every line handled


def test_a_failed_full_backup_defaults_to_a_major_problem(
    personas: Personas, setup: BackupSetup
) -> None:
    sunday_start = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    backup_run_report(job=setup.mysql, status="failed", started_at=sunday_start, now=sunday_start)
    backup_checks_create(now=datetime(2026, 11, 29, 8, 0, tzinfo=UTC))
    line = CheckLine.objects.get(job=setup.mysql)
    assert line.full
    assert line_default_severity(line) == "major"


def test_a_job_failing_twice_in_a_row_defaults_to_major(
    personas: Personas, setup: BackupSetup
) -> None:
    backup_run_report(
        job=setup.mysql, status="failed", started_at=MYSQL_START - timedelta(days=1), now=WED_0900
    )
    backup_run_report(job=setup.mysql, status="failed", started_at=MYSQL_START, now=WED_0900)
    backup_checks_create(now=WED_0900)
    line = CheckLine.objects.get(job=setup.mysql)
    assert not line.full
    assert line_default_severity(line) == "major"
    handled = check_line_handle(
        line=line, handling=Handling.INCIDENT, actor=personas.sr, now=WED_1030
    )
    assert handled.problem is not None and handled.problem.severity == "major"


def test_a_late_failure_reopens_a_completed_check(personas: Personas, setup: BackupSetup) -> None:
    backup_run_report(job=setup.win, status="success", started_at=MYSQL_START, now=WED_0900)
    backup_checks_create(now=WED_0900)
    windows = BackupCheck.objects.get(group=setup.windows)
    backup_check_complete(check=windows, actor=personas.jr, now=WED_0900 + timedelta(minutes=5))
    windows.refresh_from_db()
    assert windows.completed_at is not None

    # The script reports the same run again: it failed in its verify step after all.
    backup_run_report(job=setup.win, status="failed", started_at=MYSQL_START, now=WED_1030)

    windows.refresh_from_db()
    assert windows.completed_at is None
    assert Task.objects.get(pk=windows.task_id or 0).status == TaskStatus.OPEN


def test_a_check_with_open_lines_cannot_be_confirmed(
    personas: Personas, unix_check: BackupCheck
) -> None:
    with pytest.raises(ValidationError):
        backup_check_complete(check=unix_check, actor=personas.sr, now=WED_1030)


def incident(personas: Personas, check: BackupCheck) -> BackupProblem:
    line = check_line_handle(
        line=line_of(check, "web01-mysql"),
        handling=Handling.INCIDENT,
        assignee=personas.jr,
        actor=personas.sr,
        now=WED_1030,
    )
    assert line.problem is not None
    return line.problem


def test_analysis_picks_the_problem_up_and_the_solution_closes_its_task(
    personas: Personas, unix_check: BackupCheck
) -> None:
    problem = incident(personas, unix_check)
    later = WED_1030 + timedelta(hours=1)
    backup_problem_analyse(
        problem=problem, cause="Disk full on backup3", actor=personas.jr, now=later
    )
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.IN_PROGRESS and problem.picked_up_at == later

    with pytest.raises(ValidationError):
        backup_problem_solve(problem=problem, solution=" ", actor=personas.jr, now=later)
    backup_problem_solve(
        problem=problem, solution="Old archives moved", actor=personas.jr, now=later
    )
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.SOLVED and problem.solved_at == later
    assert Task.objects.get(pk=problem.task_id or 0).status == TaskStatus.CLOSED
    # Solved problems stay registered, with their history.
    kinds = list(history_of(problem).values_list("kind", flat=True))
    assert kinds.count("backup_problem.transition") == 2
    assert BackupProblem.objects.filter(status="solved").count() == 1


def test_a_solution_needs_a_cause_and_only_assignee_or_coordinator_may_record_it(
    personas: Personas, unix_check: BackupCheck
) -> None:
    problem = incident(personas, unix_check)
    with pytest.raises(ValidationError) as error:
        backup_problem_solve(problem=problem, solution="fixed", actor=personas.jr, now=WED_1030)
    assert "cause" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        backup_problem_analyse(problem=problem, cause="x", actor=personas.sr, now=WED_1030)
    # The head of department coordinates and may.
    backup_problem_analyse(problem=problem, cause="x", actor=personas.head, now=WED_1030)


@override_settings(BACKUP_PROBLEM_REMIND_HOURS=4, BACKUP_PROBLEM_ESCALATE_HOURS=24)
def test_a_problem_nobody_picks_up_is_reminded_then_escalated_once_each(
    personas: Personas, unix_check: BackupCheck
) -> None:
    problem = incident(personas, unix_check)
    send_notifications()  # the task mails of the check and the problem
    mail.outbox.clear()
    assert backup_problems_follow_up(now=WED_1030 + timedelta(hours=3, minutes=59)) == {
        "reminded": 0,
        "escalated": 0,
    }
    assert backup_problems_follow_up(now=WED_1030 + timedelta(hours=4)) == {
        "reminded": 1,
        "escalated": 0,
    }
    assert backup_problems_follow_up(now=WED_1030 + timedelta(hours=5))["reminded"] == 0
    assert backup_problems_follow_up(now=WED_1030 + timedelta(hours=24)) == {
        "reminded": 0,
        "escalated": 1,
    }
    assert backup_problems_follow_up(now=WED_1030 + timedelta(hours=30))["escalated"] == 0

    send_notifications()
    recipients = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert ("itm@example.test", f"Backup problem {problem.number} not picked up") in recipients
    assert any(to == "jr@example.test" and "Reminder" in subject for to, subject in recipients)


def test_a_picked_up_problem_is_not_reminded(personas: Personas, unix_check: BackupCheck) -> None:
    problem = incident(personas, unix_check)
    backup_problem_analyse(problem=problem, cause="looking", actor=personas.jr, now=WED_1030)
    assert backup_problems_follow_up(now=WED_1030 + timedelta(days=3)) == {
        "reminded": 0,
        "escalated": 0,
    }


def test_the_follow_up_task_runs_the_sweep(personas: Personas, unix_check: BackupCheck) -> None:
    import time_machine

    incident(personas, unix_check)
    with time_machine.travel(WED_1030 + timedelta(days=2), tick=False):
        assert follow_up_problems() == {"reminded": 1, "escalated": 1}


def test_the_daily_report_is_made_once_from_ten_and_mailed(
    personas: Personas, unix_check: BackupCheck
) -> None:
    import time_machine

    send_notifications()  # the check tasks' mails
    mail.outbox.clear()
    assert daily_report_create(now=WED_0900 + timedelta(minutes=59)) is None
    with time_machine.travel(WED_0900 + timedelta(hours=1), tick=False):
        assert send_daily_report() == {"created": True}
        assert send_daily_report() == {"created": False}
    report = DailyReport.objects.get()
    assert report.day == WED
    counts = report.summary["counts"]
    assert (counts["ok"], counts["failed"], counts["missing"]) == (1, 1, 1)
    assert {f["job"] for f in report.summary["failures"]} == {"web01-mysql", "win01-files"}

    send_notifications()
    to = sorted(m.to[0] for m in mail.outbox)
    # The IT manager and each group's responsible engineer (no group address set).
    assert to == ["itm@example.test", "jr@example.test", "sr@example.test"]
    assert "1 failed, 1 missing" in mail.outbox[0].subject
    assert "web01-mysql" in mail.outbox[0].body


def test_restore_tests_are_due_quarterly_and_recording_one_moves_the_date(
    personas: Personas, setup: BackupSetup
) -> None:
    assert setup.mysql.restore_due_on == date(2026, 1, 5) + timedelta(days=91)
    restore_test_record(
        job=setup.mysql,
        performed_on=date(2026, 11, 20),
        result="success",
        notes="Restored to a scratch VM",
        actor=personas.sr,
        now=WED_1030,
    )
    setup.mysql.refresh_from_db()
    assert setup.mysql.restore_due_on == date(2026, 11, 20) + timedelta(days=91)
    with pytest.raises(ValidationError):
        restore_test_record(
            job=setup.mysql,
            performed_on=date(2026, 12, 1),
            result="success",
            actor=personas.sr,
            now=WED_1030,
        )


def test_job_configuration_is_audited_with_who_when_and_old_and_new_values(
    personas: Personas, setup: BackupSetup
) -> None:
    backup_job_save(
        actor=personas.jr,
        now=WED_1030,
        job=setup.mysql,
        storage_location="backup2:/srv/b",
        full_days="0",
        incremental_days="123456",
    )
    setup.mysql.refresh_from_db()
    assert (setup.mysql.configured_by, setup.mysql.configured_at) == (personas.jr, WED_1030)
    event = Event.objects.filter(kind="backup_job.configured").get()
    assert event.actor == personas.jr
    assert event.data["changes"]["storage_location"] == ["backup3:/srv/backups", "backup2:/srv/b"]
    assert event.data["changes"]["full_days"] == ["6", "0"]
    assert "hostname" not in event.data["changes"]
    created = Event.objects.get(kind="backup_job.created", object_id=setup.mysql.pk)
    assert created.actor == personas.sr


def test_a_save_without_changes_writes_no_event(personas: Personas, setup: BackupSetup) -> None:
    backup_job_save(actor=personas.jr, now=WED_1030, job=setup.mysql, hostname="web01.example.nl")
    assert not Event.objects.filter(kind="backup_job.configured").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"full_days": "8"}, "full_days"),
        ({"full_days": "", "incremental_days": ""}, "full_days"),
        ({"full_days": "6", "incremental_days": "56"}, "incremental_days"),
    ],
)
def test_a_bad_schedule_is_refused_with_the_field(
    personas: Personas, setup: BackupSetup, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        backup_job_save(actor=personas.jr, now=WED_1030, job=setup.mysql, **fields)
    assert field in error.value.message_dict
    setup.mysql.refresh_from_db()
    assert setup.mysql.full_days == "6"


def test_a_run_that_started_a_little_early_is_not_its_own_previous_failure(
    personas: Personas, setup: BackupSetup
) -> None:
    early = MYSQL_START - timedelta(minutes=1)  # 00:59 for the 01:00 slot
    backup_run_report(job=setup.mysql, status="failed", started_at=early, now=WED_0900)
    backup_checks_create(now=WED_0900)
    line = CheckLine.objects.get(job=setup.mysql)
    assert line.run is not None and line.state == "failed"
    assert line_default_severity(line) == "minor"


def test_a_failure_reported_after_a_no_incident_judgement_needs_a_new_look(
    personas: Personas, setup: BackupSetup
) -> None:
    backup_checks_create(now=WED_0900)
    windows = BackupCheck.objects.get(group=setup.windows)
    check_line_handle(
        line=windows.lines.get(),
        handling=Handling.NO_INCIDENT,
        reason="Machine in maintenance",
        actor=personas.jr,
        now=WED_0900,
    )
    windows.refresh_from_db()
    assert windows.completed_at is not None

    backup_run_report(job=setup.win, status="failed", started_at=MYSQL_START, now=WED_1030)

    line = windows.lines.get()
    assert (line.state, line.handling, line.reason) == ("failed", "", "")
    windows.refresh_from_db()
    assert windows.completed_at is None
    judged = Event.objects.get(kind="backup_check.line_handled", object_id=windows.pk)
    assert judged.reason == "Machine in maintenance"  # the old judgement stays in history


def test_a_late_success_keeps_the_judgement(personas: Personas, setup: BackupSetup) -> None:
    backup_checks_create(now=WED_0900)
    windows = BackupCheck.objects.get(group=setup.windows)
    check_line_handle(
        line=windows.lines.get(),
        handling=Handling.NO_INCIDENT,
        reason="Runs late on Wednesdays",
        actor=personas.jr,
        now=WED_0900,
    )
    backup_run_report(job=setup.win, status="success", started_at=MYSQL_START, now=WED_1030)
    line = windows.lines.get()
    assert (line.state, line.handling) == ("ok", "no_incident")
    windows.refresh_from_db()
    assert windows.completed_at is not None


def test_a_restore_test_done_just_after_midnight_amsterdam_time_is_today(
    personas: Personas, setup: BackupSetup
) -> None:
    # 00:30 on Thursday in Amsterdam is still Wednesday in UTC.
    just_after_midnight = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    restore_test_record(
        job=setup.mysql,
        performed_on=date(2026, 11, 26),
        result="success",
        actor=personas.sr,
        now=just_after_midnight,
    )
    setup.mysql.refresh_from_db()
    assert setup.mysql.restore_due_on == date(2026, 11, 26) + timedelta(days=91)
    with pytest.raises(ValidationError) as error:
        restore_test_record(
            job=setup.mysql,
            performed_on=date(2026, 11, 26),
            result="maybe",
            actor=personas.sr,
            now=just_after_midnight,
        )
    assert "result" in error.value.message_dict


def test_a_problem_solved_straight_away_counts_as_picked_up(
    personas: Personas, unix_check: BackupCheck
) -> None:
    problem = incident(personas, unix_check)
    backup_problem_solve(
        problem=problem, cause="Full disk", solution="Cleaned up", actor=personas.jr, now=WED_1030
    )
    problem.refresh_from_db()
    assert problem.picked_up_at == WED_1030


def test_a_job_links_to_its_machine_in_network(personas: Personas, setup: BackupSetup) -> None:
    from inventory.models import ConfigurationItem

    now = WED_1030
    machine = ConfigurationItem.objects.create(
        hostname="db07.example.nl",
        kind="physical",
        customer=personas.customer,
        created_at=now,
        updated_at=now,
    )
    foreign = ConfigurationItem.objects.create(
        hostname="db08.example.nl",
        kind="physical",
        customer=personas.other_customer,
        created_at=now,
        updated_at=now,
    )
    job = backup_job_save(actor=personas.sr, now=now, job=setup.mysql, hostname="DB07.example.nl")
    assert job.machine == machine and job.hostname == "db07.example.nl"
    with pytest.raises(ValidationError) as error:
        backup_job_save(actor=personas.sr, now=now, job=setup.mysql, hostname=foreign.hostname)
    assert "hostname" in error.value.message_dict
    # A machine not (yet) in Network: the hostname alone.
    job = backup_job_save(actor=personas.sr, now=now, job=setup.mysql, hostname="new.example.nl")
    assert job.machine is None and job.hostname == "new.example.nl"
