"""The pure backup expectations: which runs were due, which are missing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from backups import schedule
from backups.schedule import JobPlan

NIGHTLY = JobPlan("mysql", "6", "012345", time(1, 0), time(9, 0))
EVENING = JobPlan("files", "5", "012346", time(23, 0), time(9, 0))
WEEKLY = JobPlan("weekly", "6", "", time(2, 30), time(7, 0))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_it_expects_the_early_job_on_the_check_day_and_the_late_one_the_evening_before() -> None:
    wednesday = date(2026, 11, 25)
    early = schedule.expected_run(NIGHTLY, wednesday)
    late = schedule.expected_run(EVENING, wednesday)
    assert early is not None and late is not None
    assert early.start == utc(2026, 11, 25, 0, 0)  # 01:00 CET
    assert early.finish == utc(2026, 11, 25, 8, 0)  # 09:00 CET
    assert late.start == utc(2026, 11, 24, 22, 0)  # Tuesday 23:00 CET
    assert late.finish == utc(2026, 11, 25, 8, 0)
    assert not early.full and not late.full


def test_it_takes_full_or_incremental_from_the_weekday_the_run_starts() -> None:
    sunday, saturday, monday = date(2026, 11, 29), date(2026, 11, 28), date(2026, 11, 30)
    assert schedule.expected_run(NIGHTLY, sunday).full  # type: ignore[union-attr]
    assert not schedule.expected_run(NIGHTLY, saturday).full  # type: ignore[union-attr]
    # The evening job checked on Sunday started on Saturday (5): its full night.
    assert schedule.expected_run(EVENING, sunday).full  # type: ignore[union-attr]
    assert not schedule.expected_run(EVENING, monday).full  # type: ignore[union-attr]


def test_a_weekly_job_is_expected_only_on_its_night() -> None:
    days = [date(2026, 11, 23) + timedelta(days=n) for n in range(7)]
    expected = [d for d in days if schedule.expected_run(WEEKLY, d) is not None]
    assert expected == [date(2026, 11, 29)]


def test_the_check_is_due_from_nine_local_time_in_winter_and_summer() -> None:
    # Winter (CET, UTC+1): 09:00 is 08:00 UTC.
    assert schedule.check_day(now=utc(2026, 11, 25, 7, 59), hour=9) is None
    assert schedule.check_day(now=utc(2026, 11, 25, 8, 0), hour=9) == date(2026, 11, 25)
    # Summer (CEST, UTC+2): 09:00 is 07:00 UTC.
    assert schedule.check_day(now=utc(2026, 7, 1, 6, 59), hour=9) is None
    assert schedule.check_day(now=utc(2026, 7, 1, 7, 0), hour=9) == date(2026, 7, 1)
    # Late in the evening it is still that day's check, not tomorrow's.
    assert schedule.check_day(now=utc(2026, 11, 25, 22, 59), hour=9) == date(2026, 11, 25)


def test_the_night_of_the_switch_to_summer_time() -> None:
    """29 March 2026: clocks jump from 02:00 to 03:00. A job set for 02:30 (a
    time that does not exist that night) is expected at 03:30 CEST; its 07:00
    finish is summer time."""
    run = schedule.expected_run(WEEKLY, date(2026, 3, 29))
    assert run is not None
    assert run.start == utc(2026, 3, 29, 1, 30)
    assert run.finish == utc(2026, 3, 29, 5, 0)
    assert schedule.check_day(now=utc(2026, 3, 29, 7, 0), hour=9) == date(2026, 3, 29)
    assert schedule.check_day(now=utc(2026, 3, 29, 6, 59), hour=9) is None


def test_the_night_of_the_switch_back_to_winter_time() -> None:
    """25 October 2026: 03:00 CEST becomes 02:00 CET. A 01:00 start is still
    summer time; the 09:00 finish and check are winter time."""
    run = schedule.expected_run(NIGHTLY, date(2026, 10, 25))
    assert run is not None
    assert run.start == utc(2026, 10, 24, 23, 0)  # 01:00 CEST
    assert run.finish == utc(2026, 10, 25, 8, 0)  # 09:00 CET
    assert run.finish - run.start == timedelta(hours=9)  # the night has 25 hours
    assert schedule.check_day(now=utc(2026, 10, 25, 7, 30), hour=9) is None
    assert schedule.check_day(now=utc(2026, 10, 25, 8, 0), hour=9) == date(2026, 10, 25)


def test_a_run_is_missing_only_after_its_expected_finish_without_a_report() -> None:
    wednesday = date(2026, 11, 25)
    plans = [NIGHTLY, EVENING]
    reported = {"mysql": [utc(2026, 11, 25, 0, 0, 3)]}
    before = schedule.missing_runs(
        plans=plans, reported=reported, day=wednesday, now=utc(2026, 11, 25, 7, 59)
    )
    after = schedule.missing_runs(
        plans=plans, reported=reported, day=wednesday, now=utc(2026, 11, 25, 8, 0)
    )
    assert before == []
    assert [run.key for run in after] == ["files"]


def test_a_report_of_another_night_does_not_count() -> None:
    wednesday = date(2026, 11, 25)
    yesterdays = {"mysql": [utc(2026, 11, 24, 0, 0)]}
    missing = schedule.missing_runs(
        plans=[NIGHTLY], reported=yesterdays, day=wednesday, now=utc(2026, 11, 25, 9, 0)
    )
    assert [run.key for run in missing] == ["mysql"]


@pytest.mark.parametrize(
    ("status", "now", "state"),
    [
        ("success", utc(2026, 11, 25, 7, 0), "ok"),
        ("warning", utc(2026, 11, 25, 7, 0), "warning"),
        ("failed", utc(2026, 11, 25, 7, 0), "failed"),
        (None, utc(2026, 11, 25, 7, 59), "pending"),
        (None, utc(2026, 11, 25, 8, 0), "missing"),
    ],
)
def test_line_state(status: str | None, now: datetime, state: str) -> None:
    expected = schedule.expected_run(NIGHTLY, date(2026, 11, 25))
    assert expected is not None
    assert schedule.line_state(expected=expected, run_status=status, now=now) == state


@pytest.mark.parametrize(
    ("full", "failed_before", "severity"),
    [
        (True, False, "major"),
        (False, True, "major"),
        (True, True, "major"),
        (False, False, "minor"),
    ],
)
def test_default_severity(full: bool, failed_before: bool, severity: str) -> None:
    assert schedule.default_severity(full=full, failed_before=failed_before) == severity


def test_parse_days_normalises_and_rejects() -> None:
    assert schedule.parse_days("6, 0") == "06"
    assert schedule.parse_days("0123456") == "0123456"
    assert schedule.parse_days("") == ""
    with pytest.raises(ValueError):
        schedule.parse_days("7")
