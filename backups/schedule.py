"""Backup expectations, pure: which runs were due last night, which are
missing, and how bad a failure is. No ORM; `now` and the time zone are passed in.

A job's *night* belongs to the morning it is checked. A job that starts before
noon (01:00) runs on the check day itself; one that starts at or after noon
(23:00) ran the evening before. The weekday that decides between a full and an
incremental backup is the weekday of the calendar date the run starts on
(Monday = 0). A reported run belongs to a night when it started within twelve
hours of that night's scheduled start, so consecutive nights never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOON = time(12, 0)
MATCH_WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class JobPlan:
    """What the schedule needs to know of a job."""

    key: Any
    full_days: str
    incremental_days: str
    starts_at: time
    expected_finish: time


@dataclass(frozen=True)
class ExpectedRun:
    key: Any
    start: datetime
    finish: datetime
    full: bool

    def matches(self, started_at: datetime) -> bool:
        return abs(started_at - self.start) < MATCH_WINDOW


def _at(day: date, moment: time, tz: tzinfo) -> datetime:
    """The local wall-clock moment; a time inside the spring-forward gap is
    read with the winter offset, so 02:30 on that night is 03:30 summer time.
    Returned in UTC: arithmetic between two aware datetimes of the same zone
    object is wall-clock arithmetic in Python, wrong across a DST switch."""
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def check_day(*, now: datetime, hour: int, tz: tzinfo = AMSTERDAM) -> date | None:
    """The day whose check is due at `now`: today from `hour` o'clock local
    time on, None before it."""
    local = now.astimezone(tz)
    return local.date() if local.hour >= hour else None


def expected_run(plan: JobPlan, day: date, tz: tzinfo = AMSTERDAM) -> ExpectedRun | None:
    """The run of `plan` checked on the morning of `day`, or None when the job
    does not run that night."""
    run_day = day if plan.starts_at < NOON else day - timedelta(days=1)
    weekday = str(run_day.weekday())
    full = weekday in plan.full_days
    if not full and weekday not in plan.incremental_days:
        return None
    start = _at(run_day, plan.starts_at, tz)
    finish_day = run_day if plan.expected_finish > plan.starts_at else run_day + timedelta(days=1)
    return ExpectedRun(plan.key, start, _at(finish_day, plan.expected_finish, tz), full)


def expected_runs(plans: Iterable[JobPlan], day: date, tz: tzinfo = AMSTERDAM) -> list[ExpectedRun]:
    return [run for plan in plans if (run := expected_run(plan, day, tz)) is not None]


def line_state(*, expected: ExpectedRun, run_status: str | None, now: datetime) -> str:
    """ok / warning / failed from the reported run; without a report the run is
    pending until its expected finish and missing after it."""
    if run_status is not None:
        return {"success": "ok", "warning": "warning", "failed": "failed"}[run_status]
    return "missing" if now >= expected.finish else "pending"


def missing_runs(
    *,
    plans: Iterable[JobPlan],
    reported: Mapping[Any, Iterable[datetime]],
    day: date,
    now: datetime,
    tz: tzinfo = AMSTERDAM,
) -> list[ExpectedRun]:
    """The runs of `day`'s night that were due by `now` and of which no report
    arrived; `reported` maps a job key to the start times reported for it."""
    return [
        run
        for run in expected_runs(plans, day, tz)
        if now >= run.finish and not any(run.matches(s) for s in reported.get(run.key, ()))
    ]


def default_severity(*, full: bool, failed_before: bool) -> str:
    """A failed or missing run is a major problem when it was a full backup or
    the job's previous run failed too; otherwise minor."""
    return "major" if full or failed_before else "minor"


def parse_days(text: str) -> str:
    """Normalise a weekday set ("0,6", "06", "60") to sorted digits; raises
    ValueError on anything but the digits 0-6."""
    digits = [c for c in text if c not in ", "]
    if any(c not in "0123456" for c in digits):
        raise ValueError(text)
    return "".join(sorted(set(digits)))
