"""The forward schedule of change as a page: a week (`?week=2026-W48`, the
default) or a month (`?month=2026-11`) of planned changes per day, freeze
windows shaded, and the changes that touch one machine at the same time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from changes import schedule as rules
from changes.models import Change
from changes.selectors import as_freeze, freeze_windows_between, schedule_changes
from servicedesk.lib.access import permission_required

Clash = tuple[Change, Change, tuple[str, ...]]
WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass
class Period:
    kind: str  # "week" or "month"
    first: date  # the first day shown
    days: int
    month: date | None = None  # the month of a month view
    previous: str = ""
    next: str = ""
    current: str = ""

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)


@dataclass
class Entry:
    change: Change
    starts_today: bool
    ends_today: bool
    clash: bool
    frozen: bool


@dataclass
class Day:
    date: date
    today: bool
    outside: bool
    entries: list[Entry] = field(default_factory=list)
    freezes: list[rules.Freeze] = field(default_factory=list)


def _week_param(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _month_param(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _week(monday: date, today: date) -> Period:
    return Period(
        kind="week",
        first=monday,
        days=7,
        previous=_week_param(monday - timedelta(days=7)),
        next=_week_param(monday + timedelta(days=7)),
        current=_week_param(today),
    )


def _month(first: date, today: date) -> Period:
    # Whole weeks, Monday first, so the grid has no ragged edges.
    grid_start = first - timedelta(days=first.weekday())
    following = _add_months(first, 1)
    grid_end = following + timedelta(days=(7 - following.weekday()) % 7)
    return Period(
        kind="month",
        first=grid_start,
        days=(grid_end - grid_start).days,
        month=first,
        previous=_month_param(_add_months(first, -1)),
        next=_month_param(following),
        current=_month_param(today),
    )


def period_from(query: QueryDict, today: date) -> Period:
    """The period asked for; a malformed or impossible one shows this week."""
    if match := MONTH.match(query.get("month", "")):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 1 <= year <= 9998:
            return _month(date(year, month, 1), today)
    if match := WEEK.match(query.get("week", "")):
        try:
            return _week(date.fromisocalendar(int(match[1]), int(match[2]), 1), today)
        except ValueError:
            pass
    return _week(today - timedelta(days=today.weekday()), today)


def _midnight(day: date) -> datetime:
    # Days are Amsterdam days: a change at 23:30 local belongs to that evening.
    return timezone.make_aware(datetime.combine(day, time.min))


def _days(
    period: Period,
    today: date,
    changes: list[Change],
    freezes: list[rules.Freeze],
    clashes: list[Clash],
) -> list[Day]:
    clashing = {change.pk for pair in clashes for change in pair[:2]}
    days: list[Day] = []
    for offset in range(period.days):
        day = period.first + timedelta(days=offset)
        start, end = _midnight(day), _midnight(day + timedelta(days=1))
        outside = period.month is not None and day.month != period.month.month
        cell = Day(date=day, today=day == today, outside=outside)
        span = rules.Window(start, end)
        cell.freezes = [
            f for f in freezes if rules.windows_overlap(span, rules.Window(f.starts_at, f.ends_at))
        ]
        for change in changes:
            window = rules.window_of(change)
            if window is None or not rules.windows_overlap(span, window):
                continue
            frozen = not change.emergency and bool(
                rules.freeze_conflicts(
                    window, change.affected_machines, change.customer_id, cell.freezes
                )
            )
            cell.entries.append(
                Entry(
                    change=change,
                    starts_today=window.start >= start,
                    ends_today=window.end <= end,
                    clash=change.pk in clashing,
                    frozen=frozen,
                )
            )
        days.append(cell)
    return days


def _warnings(clashes: list[Clash]) -> list[dict[str, Any]]:
    warnings = []
    for first, second, machines in clashes:
        assert first.planned_start and first.planned_end  # overlaps() skips unplanned ones
        assert second.planned_start and second.planned_end
        warnings.append(
            {
                "first": first,
                "second": second,
                "machines": ", ".join(machines),
                "start": max(first.planned_start, second.planned_start),
                "end": min(first.planned_end, second.planned_end),
            }
        )
    return warnings


def _week_shown(period: Period, today: date) -> date:
    """The week the week view switches to: the shown week itself, or from a
    month this week when it lies in that month, else the month's first week."""
    if period.month is None:
        return period.first
    if (today.year, today.month) == (period.month.year, period.month.month):
        return today
    return period.month


@permission_required("changes.view_change")
def schedule(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    period = period_from(request.GET, today)
    start = _midnight(period.first)
    end = _midnight(period.last + timedelta(days=1))
    changes = list(schedule_changes(start=start, end=end))
    freezes = [as_freeze(window) for window in freeze_windows_between(start, end)]
    clashes = rules.overlaps(changes)
    days = _days(period, today, changes, freezes, clashes)
    context = {
        "period": period,
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "weekdays": [day.date for day in days[:7]],
        "warnings": _warnings(clashes),
        "freezes": freezes,
        "week_view": _week_param(_week_shown(period, today)),
        "month_view": _month_param(period.month or period.first + timedelta(days=3)),
        "week_number": period.first.isocalendar()[1],
        "week_year": period.first.isocalendar()[0],
    }
    return render(request, "changes/schedule.html", context)
