"""Report periods: local Amsterdam days as UTC bounds, across daylight saving
switches, and the step to the previous and next period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import periods
from reports.periods import Period, custom, month_period, period_for


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_a_winter_month_runs_from_local_midnight_to_local_midnight() -> None:
    november = month_period(date(2026, 11, 17))
    assert (november.first, november.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert november.start == utc(2026, 10, 31, 23)
    assert november.end == utc(2026, 11, 30, 23)
    assert november.contains(utc(2026, 11, 30, 22, 59, 59))
    assert not november.contains(november.end)


@pytest.mark.parametrize(
    ("month", "hours"),
    [(date(2026, 3, 1), 31 * 24 - 1), (date(2026, 10, 1), 31 * 24 + 1), (date(2026, 7, 1), 744)],
    ids=["summer-time-begins", "summer-time-ends", "summer"],
)
def test_a_month_is_as_long_as_the_local_calendar_says(month: date, hours: int) -> None:
    period = month_period(month)
    assert period.end - period.start == timedelta(hours=hours)


def test_the_day_summer_time_begins_has_23_hours() -> None:
    day = period_for(periods.DAY, date(2026, 3, 29))
    assert (day.start, day.end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))


def test_a_week_is_an_iso_week_from_monday() -> None:
    week = period_for(periods.WEEK, date(2026, 11, 1))  # a Sunday
    assert (week.first, week.last) == (date(2026, 10, 26), date(2026, 11, 1))
    assert week.previous().first == date(2026, 10, 19)
    assert week.next().first == date(2026, 11, 2)


def test_quarters_are_calendar_quarters() -> None:
    q4 = period_for(periods.QUARTER, date(2026, 11, 25))
    assert (q4.first, q4.last) == (date(2026, 10, 1), date(2026, 12, 31))
    assert q4.next() == Period(periods.QUARTER, date(2027, 1, 1), date(2027, 3, 31))
    assert q4.previous().months() == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]


def test_a_custom_period_steps_by_its_own_length() -> None:
    period = custom(date(2026, 11, 2), date(2026, 11, 8))
    assert period.previous() == Period(periods.CUSTOM, date(2026, 10, 26), date(2026, 11, 1))
    assert period.next() == Period(periods.CUSTOM, date(2026, 11, 9), date(2026, 11, 15))
    assert period.days == 7
    assert not period.is_month()
    assert custom(date(2026, 2, 1), date(2026, 2, 28)).is_month()


def test_a_period_is_refused_backwards_or_too_long() -> None:
    with pytest.raises(ValueError, match="ends on or after"):
        custom(date(2026, 11, 8), date(2026, 11, 2))
    with pytest.raises(ValueError, match="at most"):
        custom(date(2020, 1, 1), date(2026, 1, 1))
    with pytest.raises(ValueError, match="kind"):
        Period("fortnight", date(2026, 1, 1), date(2026, 1, 14))
    with pytest.raises(ValueError, match="custom"):
        period_for(periods.CUSTOM, date(2026, 1, 1))


def test_a_month_is_closed_from_local_midnight_after_its_last_day() -> None:
    november = month_period(date(2026, 11, 1))
    assert not november.is_closed(utc(2026, 11, 30, 22, 59))
    assert november.is_closed(utc(2026, 11, 30, 23, 0))


def test_the_previous_month_is_that_of_amsterdam_not_of_utc() -> None:
    # 00:30 on 1 December in Amsterdam is still 30 November in UTC.
    assert periods.previous_month(utc(2026, 11, 30, 23, 30)) == date(2026, 11, 1)
    assert periods.previous_month(utc(2026, 11, 30, 22, 30)) == date(2026, 10, 1)
    assert periods.previous_month(utc(2027, 1, 15)) == date(2026, 12, 1)


def test_months_ending_counts_back_over_a_year_end() -> None:
    assert periods.months_ending(date(2027, 2, 14), 4) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


def test_local_date_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        periods.local_date(datetime(2026, 11, 25, 12))


@given(
    kind=st.sampled_from([periods.DAY, periods.WEEK, periods.MONTH, periods.QUARTER]),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
def test_periods_contain_their_day_and_tile_the_calendar(kind: str, day: date) -> None:
    period = period_for(kind, day)
    assert period.first <= day <= period.last
    assert period.start < period.end
    assert period.previous().end == period.start
    assert period.next().start == period.end
    assert period.next().previous() == period
    assert period_for(kind, period.last) == period
