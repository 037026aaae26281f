"""The daily 09:00 check: once per responsibility group per day, for the right
engineer, listing last night's runs, updated by late reports."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from celery.schedules import crontab
from django.db import connection

from accounts.services import absence_create
from backups.models import BackupCheck, BackupJob, BackupRun, CheckLine, LineState
from backups.services import (
    backup_checks_create,
    backup_checks_refresh,
    backup_run_report,
)
from backups.tasks import create_daily_checks
from events.models import Event
from servicedesk.celery import BEAT_SCHEDULE
from tests.backups.factories import BackupSetup, make_backup_setup
from tests.base import Personas, make_personas
from tickets.models import Task, TaskStatus

# Wednesday 25 November 2026, winter time (CET = UTC+1).
WED_0900 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WED_0859 = WED_0900 - timedelta(minutes=1)
WED_1030 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
WED = date(2026, 11, 25)


@pytest.fixture
def setup(personas: Personas) -> BackupSetup:
    return make_backup_setup(personas)


def report(
    job: BackupJob, status: str, started_at: datetime, now: datetime, **extra: Any
) -> tuple[BackupRun, bool]:
    return backup_run_report(job=job, status=status, started_at=started_at, now=now, **extra)


def states(check: BackupCheck) -> dict[str, str]:
    return {line.job.reference: line.state for line in check.lines.select_related("job")}


def test_at_nine_one_check_per_group_for_the_responsible_engineer(
    personas: Personas, setup: BackupSetup
) -> None:
    report(setup.mysql, "success", datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC), WED_0900)
    report(setup.files, "failed", datetime(2026, 11, 24, 22, 1, tzinfo=UTC), WED_0900)

    created = backup_checks_create(now=WED_0900)

    assert sorted(c.group.code for c in created) == ["unix", "windows"]
    unix = BackupCheck.objects.get(group=setup.unix, day=WED)
    windows = BackupCheck.objects.get(group=setup.windows, day=WED)
    assert unix.task is not None and unix.task.assignee == personas.sr
    assert windows.task is not None and windows.task.assignee == personas.jr
    assert unix.task.due_date == WED and unix.task.link == unix
    assert states(unix) == {"web01-mysql": "ok", "web01-files": "failed"}
    assert states(windows) == {"win01-files": "missing"}  # due 09:00, nothing reported


def test_before_nine_nothing_is_created(setup: BackupSetup) -> None:
    assert backup_checks_create(now=WED_0859) == []
    assert not BackupCheck.objects.exists()


def test_running_again_or_after_a_restart_creates_nothing_new(setup: BackupSetup) -> None:
    with time_machine.travel(WED_0900, tick=False):
        first = create_daily_checks()
    with time_machine.travel(WED_0900 + timedelta(minutes=15), tick=False):
        second = create_daily_checks()
        third = create_daily_checks()
    assert first["created"] == 2
    assert second["created"] == third["created"] == 0
    assert BackupCheck.objects.count() == 2
    assert Task.objects.count() == 2
    assert Event.objects.filter(kind="backup_check.created").count() == 2


def test_the_unique_constraint_refuses_a_second_check_for_a_group_and_day(
    setup: BackupSetup,
) -> None:
    from django.db import IntegrityError, transaction

    BackupCheck.objects.create(group=setup.unix, day=WED, created_at=WED_0900)
    with pytest.raises(IntegrityError), transaction.atomic():
        BackupCheck.objects.create(group=setup.unix, day=WED, created_at=WED_0900)


def test_a_machine_that_was_down_at_nine_catches_up_later_that_day(setup: BackupSetup) -> None:
    afternoon = datetime(2026, 11, 25, 14, 15, tzinfo=UTC)
    with time_machine.travel(afternoon, tick=False):
        assert create_daily_checks()["created"] == 2
    check = BackupCheck.objects.get(group=setup.unix)
    assert check.day == WED and check.created_at == afternoon


def test_the_beat_runs_the_task_from_nine_amsterdam_time_every_quarter() -> None:
    entry = BEAT_SCHEDULE["create-backup-checks"]
    assert entry["task"] == "backups.create_daily_checks"
    assert isinstance(entry["schedule"], crontab)
    schedule: Any = entry["schedule"]  # crontab's hour and minute sets are untyped
    assert min(schedule.hour) == 9 and max(schedule.hour) == 23
    assert sorted(schedule.minute) == [0, 15, 30, 45]
    from servicedesk.celery import app

    assert app.conf.timezone == "Europe/Amsterdam"


def test_on_sunday_the_lines_are_full_backups(setup: BackupSetup) -> None:
    sunday_0900 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    backup_checks_create(now=sunday_0900)
    lines = CheckLine.objects.filter(backup_check__day=date(2026, 11, 29)).select_related("job")
    full = {line.job.reference: line.full for line in lines}
    # mysql and win run full on Sunday; files (23:00) ran full on Saturday evening.
    assert full == {"web01-mysql": True, "web01-files": True, "win01-files": True}


def test_on_saturday_the_lines_are_incremental(setup: BackupSetup) -> None:
    backup_checks_create(now=datetime(2026, 11, 28, 8, 0, tzinfo=UTC))
    lines = CheckLine.objects.filter(backup_check__day=date(2026, 11, 28))
    assert lines.count() == 3
    assert not lines.filter(full=True).exists()


def test_on_the_morning_of_the_switch_to_summer_time(setup: BackupSetup) -> None:
    """29 March 2026: 09:00 is 07:00 UTC; the 01:00 job is expected 00:00 UTC."""
    assert backup_checks_create(now=datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == []
    assert len(backup_checks_create(now=datetime(2026, 3, 29, 7, 0, tzinfo=UTC))) == 2
    line = CheckLine.objects.get(job=setup.mysql)
    assert line.expected_start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert line.expected_finish == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_on_the_morning_of_the_switch_back_to_winter_time(setup: BackupSetup) -> None:
    """25 October 2026: 09:00 is 08:00 UTC; the 01:00 job still ran in summer time."""
    assert backup_checks_create(now=datetime(2026, 10, 25, 7, 30, tzinfo=UTC)) == []
    assert len(backup_checks_create(now=datetime(2026, 10, 25, 8, 0, tzinfo=UTC))) == 2
    line = CheckLine.objects.get(job=setup.mysql)
    assert line.expected_start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)


def test_an_absent_engineer_s_check_goes_to_the_substitute(
    personas: Personas, setup: BackupSetup
) -> None:
    absence_create(
        user=personas.sr,
        starts_on=WED,
        ends_on=WED,
        substitute=personas.jr,
        reason="leave",
        actor=personas.head,
        now=WED_0900,
    )
    backup_checks_create(now=WED_0900)
    check = BackupCheck.objects.get(group=setup.unix)
    assert check.task is not None and check.task.assignee == personas.jr


def test_an_absent_engineer_without_substitute_falls_back_to_the_group_fallback(
    personas: Personas, setup: BackupSetup
) -> None:
    absence_create(
        user=personas.sr,
        starts_on=WED,
        ends_on=WED,
        substitute=None,
        reason="ill",
        actor=personas.head,
        now=WED_0900,
    )
    backup_checks_create(now=WED_0900)
    check = BackupCheck.objects.get(group=setup.unix)
    assert check.task is not None and check.task.assignee == personas.head


def test_without_substitute_or_fallback_the_it_manager_gets_the_check(
    personas: Personas, setup: BackupSetup
) -> None:
    absence_create(
        user=personas.jr,
        starts_on=WED,
        ends_on=WED,
        substitute=None,
        reason="leave",
        actor=personas.head,
        now=WED_0900,
    )
    backup_checks_create(now=WED_0900)
    check = BackupCheck.objects.get(group=setup.windows)
    assert check.task is not None and check.task.assignee == personas.itm


def test_an_absence_of_another_day_changes_nothing(personas: Personas, setup: BackupSetup) -> None:
    absence_create(
        user=personas.sr,
        starts_on=WED + timedelta(days=1),
        ends_on=WED + timedelta(days=3),
        substitute=personas.jr,
        reason="leave",
        actor=personas.head,
        now=WED_0900,
    )
    backup_checks_create(now=WED_0900)
    assert BackupCheck.objects.get(group=setup.unix).task.assignee == personas.sr  # type: ignore[union-attr]


def test_a_late_report_at_half_past_ten_updates_the_open_check(setup: BackupSetup) -> None:
    backup_checks_create(now=WED_0900)
    windows = BackupCheck.objects.get(group=setup.windows)
    assert states(windows) == {"win01-files": "missing"}

    run, created = report(
        setup.win,
        "success",
        datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
        WED_1030,
        finished_at=datetime(2026, 11, 25, 9, 25, tzinfo=UTC),
    )

    assert created
    line = windows.lines.get()
    assert line.state == LineState.OK and line.run == run
    event = Event.objects.get(kind="backup_check.run_reported", object_id=windows.pk)
    assert (event.from_state, event.to_state, event.data["late"]) == ("missing", "ok", True)


def test_a_late_failure_turns_a_pending_line_failed(setup: BackupSetup) -> None:
    backup_checks_create(now=WED_0859 + timedelta(minutes=1))
    report(setup.win, "failed", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), WED_1030)
    assert states(BackupCheck.objects.get(group=setup.windows)) == {"win01-files": "failed"}


def test_a_report_of_another_night_leaves_the_line_alone(setup: BackupSetup) -> None:
    backup_checks_create(now=WED_0900)
    report(setup.win, "success", datetime(2026, 11, 24, 1, 0, tzinfo=UTC), WED_1030)
    assert states(BackupCheck.objects.get(group=setup.windows)) == {"win01-files": "missing"}


def test_lines_become_missing_when_their_expected_finish_passes(
    personas: Personas, setup: BackupSetup
) -> None:
    from backups.services import backup_job_save

    backup_job_save(actor=personas.sr, now=WED_0900, job=setup.win, expected_finish="11:00")
    backup_checks_create(now=WED_0900)
    windows = BackupCheck.objects.get(group=setup.windows)
    assert states(windows) == {"win01-files": "pending"}
    assert backup_checks_refresh(now=datetime(2026, 11, 25, 9, 59, tzinfo=UTC)) == 0
    assert backup_checks_refresh(now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) == 1
    assert backup_checks_refresh(now=datetime(2026, 11, 25, 10, 15, tzinfo=UTC)) == 0
    assert states(windows) == {"win01-files": "missing"}


def test_the_same_run_reported_twice_is_one_run(setup: BackupSetup) -> None:
    start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    first, created = report(setup.mysql, "warning", start, WED_0900, message="slow")
    second, created_again = report(setup.mysql, "success", start, WED_1030, size_bytes=10)
    assert created and not created_again
    assert first.pk == second.pk
    run = BackupRun.objects.get()
    assert (run.status, run.size_bytes, run.message) == ("success", 10, "")


def test_an_inactive_job_is_not_expected(personas: Personas, setup: BackupSetup) -> None:
    from backups.services import backup_job_save

    backup_job_save(actor=personas.sr, now=WED_0900, job=setup.files, active=False)
    backup_checks_create(now=WED_0900)
    assert states(BackupCheck.objects.get(group=setup.unix)) == {"web01-mysql": "missing"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_nine_create_each_check_once() -> None:
    personas = make_personas()
    make_backup_setup(personas)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            backup_checks_create(now=WED_0900)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert BackupCheck.objects.count() == 2
    assert Task.objects.filter(status=TaskStatus.OPEN).count() == 2
    assert CheckLine.objects.count() == 3


def test_a_group_nobody_can_take_does_not_block_the_other_groups(
    personas: Personas, setup: BackupSetup
) -> None:
    absence_create(
        user=personas.jr,
        starts_on=WED,
        ends_on=WED,
        substitute=None,
        reason="ill",
        actor=personas.head,
        now=WED_0900,
    )
    personas.itm.groups.clear()  # no IT manager to fall back on either
    setup.windows.name = "A-Windows"  # comes first, so it would block the rest
    setup.windows.save()
    created = backup_checks_create(now=WED_0900)
    assert [c.group.code for c in created] == ["unix"]
    assert not BackupCheck.objects.filter(group=setup.windows).exists()
