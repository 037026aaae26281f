"""Report periods: a day, an ISO week (Monday to Sunday), a calendar month, a
quarter or a custom range of local days in Europe/Amsterdam, with its bounds
as UTC instants for the queries. Pure: no ORM and no clock; callers pass the day.

A period is half open, [start, end): `end` is local midnight after the last
day, so a ticket created at 23:59:59 on the last day is in, one at 00:00 of the
next day is not. Local midnight is computed per day, so a month with a daylight
saving switch is 743 or 745 hours long, as the calendar says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

DAY = "day"
WEEK = "week"
MONTH = "month"
QUARTER = "quarter"
CUSTOM = "custom"
KINDS = (DAY, WEEK, MONTH, QUARTER, CUSTOM)
# A custom range longer than this is refused: three years of rows is what a
# report is for; more belongs in the CSV export of several periods.
MAX_CUSTOM_DAYS = 3 * 366


def local_midnight(day: date) -> datetime:
    """00:00 in Amsterdam on `day`, as a UTC instant."""
    return datetime.combine(day, time(0), AMSTERDAM).astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The Amsterdam calendar day of an aware instant."""
    if moment.tzinfo is None:
        raise ValueError("local_date needs an aware datetime")
    return moment.astimezone(AMSTERDAM).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`'s."""
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return add_months(month_start(day), 1) - timedelta(days=1)


def previous_month(now: datetime) -> date:
    """The first day of the month before the local month of `now`."""
    return add_months(month_start(local_date(now)), -1)


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # first local day
    last: date  # last local day, inclusive

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.last < self.first:
            raise ValueError("a period ends on or after its first day")

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        """Exclusive: local midnight after the last day."""
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def is_closed(self, now: datetime) -> bool:
        """Nothing that happens from `now` on falls into the period any more."""
        return self.end <= now

    def is_month(self) -> bool:
        return self.first.day == 1 and self.last == month_end(self.first)

    def previous(self) -> Period:
        if self.kind == CUSTOM:
            last = self.first - timedelta(days=1)
            return Period(CUSTOM, last - timedelta(days=self.days - 1), last)
        return period_for(self.kind, self.first - timedelta(days=1))

    def next(self) -> Period:
        if self.kind == CUSTOM:
            first = self.last + timedelta(days=1)
            return Period(CUSTOM, first, first + timedelta(days=self.days - 1))
        return period_for(self.kind, self.last + timedelta(days=1))

    def months(self) -> list[date]:
        """The first days of the months the period touches, oldest first."""
        return list(_months_between(month_start(self.first), month_start(self.last)))


def _months_between(first: date, last: date) -> Iterator[date]:
    month = first
    while month <= last:
        yield month
        month = add_months(month, 1)


def period_for(kind: str, day: date) -> Period:
    """The day, week, month or quarter that contains `day`."""
    if kind == DAY:
        return Period(DAY, day, day)
    if kind == WEEK:
        monday = day - timedelta(days=day.weekday())
        return Period(WEEK, monday, monday + timedelta(days=6))
    if kind == MONTH:
        return Period(MONTH, month_start(day), month_end(day))
    if kind == QUARTER:
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(QUARTER, first, month_end(add_months(first, 2)))
    raise ValueError(f"period_for needs day, week, month or quarter, not {kind!r}")


def custom(first: date, last: date) -> Period:
    period = Period(CUSTOM, first, last)
    if period.days > MAX_CUSTOM_DAYS:
        raise ValueError(f"a custom period spans at most {MAX_CUSTOM_DAYS} days")
    return period


def month_period(month: date) -> Period:
    return period_for(MONTH, month)


def months_ending(month: date, count: int) -> list[date]:
    """`count` months ending with `month` (first days), oldest first."""
    last = month_start(month)
    return [add_months(last, offset) for offset in range(-count + 1, 1)]
