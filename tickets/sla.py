"""The SLA clock: business-time arithmetic and the SLA state of a ticket.

Pure on purpose: no Django, no database, no settings and no reading of the clock (`now` is
always passed in), so every rule here can be tested exhaustively and reused by the API,
the pages and the periodic breach check alike.

Business hours are wall-clock times in the calendar's zone, not fixed UTC offsets: a desk
that opens at 08:30 opens at 08:30 in winter and in summer, so its opening instant moves by
an hour in UTC twice a year, and the DST Sundays are 23 and 25 hours long. Every day is
therefore converted from local time to UTC on its own, and all arithmetic afterwards is done
on UTC instants, where subtracting two datetimes gives real elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

__all__ = [
    "AMSTERDAM",
    "MAX_SEARCH",
    "TWENTY_FOUR_SEVEN",
    "Calendar",
    "Pause",
    "SlaFacts",
    "SlaState",
    "SlaTargets",
    "add_business_time",
    "business_hours",
    "business_time_between",
    "compute_sla",
    "dutch_holidays",
    "open_intervals",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# A calendar with (almost) no open time would otherwise send add_business_time walking
# forever; ten years is far beyond any real SLA, so running out of it means misconfiguration.
MAX_SEARCH = timedelta(days=3653)

_Span = tuple[time, time]
_Interval = tuple[datetime, datetime]
_ONE_DAY = timedelta(days=1)


class _WeeklyHours(Mapping[int, tuple[_Span, ...]]):
    """An immutable, hashable weekday -> spans mapping.

    Calendar is a frozen dataclass that callers use as a cache key; a plain dict field would
    make it unhashable and would let someone change a "frozen" calendar behind its back.
    """

    __slots__ = ("_by_weekday", "_items")

    def __init__(self, hours: Mapping[int, Iterable[_Span]]) -> None:
        by_weekday: list[tuple[_Span, ...]] = [() for _ in range(7)]
        for weekday, spans in hours.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), not {weekday!r}")
            by_weekday[weekday] = _merge_spans(spans)
        self._by_weekday = tuple(by_weekday)
        self._items = tuple((wd, spans) for wd, spans in enumerate(by_weekday) if spans)

    def __getitem__(self, weekday: int) -> tuple[_Span, ...]:
        if isinstance(weekday, int) and 0 <= weekday <= 6 and self._by_weekday[weekday]:
            return self._by_weekday[weekday]
        raise KeyError(weekday)

    def __iter__(self) -> Iterator[int]:
        return (wd for wd, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _WeeklyHours):
            return self._items == other._items
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"{dict(self._items)!r}"


def _merge_spans(spans: Iterable[_Span]) -> tuple[_Span, ...]:
    checked: list[_Span] = []
    for span in spans:
        if not isinstance(span, tuple) or len(span) != 2:
            raise ValueError(f"a span is an (open, close) tuple, not {span!r}")
        open_, close = span
        if not isinstance(open_, time) or not isinstance(close, time):
            raise ValueError(f"open and close must be datetime.time values, not {span!r}")
        # The times are wall-clock times in the calendar's zone; a tz-aware time would claim
        # a fixed offset and silently disagree with the calendar half of the year.
        if open_.tzinfo is not None or close.tzinfo is not None:
            raise ValueError("open and close are local wall-clock times: pass naive times")
        if close <= open_:
            raise ValueError(f"close must be later than open on the same day: {span!r}")
        checked.append((open_, close))
    result: list[_Span] = []
    for open_, close in sorted(checked):
        if result and open_ <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], close))
        else:
            result.append((open_, close))
    return tuple(result)


@dataclass(frozen=True)
class Calendar:
    """When the SLA clock runs.

    `hours` maps a weekday (0=Monday .. 6=Sunday) to (open, close) local wall-clock times,
    close later than open on the same day; overlapping or touching spans are merged. It is
    stored as an immutable, hashable mapping. `holidays` are local dates closed all day, also
    for an `always_open` calendar.
    """

    always_open: bool = False
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    tz: ZoneInfo = AMSTERDAM

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", _WeeklyHours(self.hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not isinstance(self.tz, ZoneInfo):
            raise ValueError("tz must be a zoneinfo.ZoneInfo")


@lru_cache(maxsize=32)
def _dutch_holidays(years: tuple[int, ...]) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays("NL", years=years).keys())


def dutch_holidays(years: Iterable[int]) -> frozenset[date]:
    """Dutch public holidays (New Year, Easter Monday, King's Day, Ascension, Whit Monday,
    Christmas, and Liberation Day in its lustrum years) for the given years."""
    # Cached: building decades of holidays is slow and business_hours() is called often.
    return _dutch_holidays(tuple(sorted(set(years))))


def business_hours(
    open_: time = time(8, 30),
    close: time = time(17, 30),
    weekdays: Iterable[int] = range(5),
    years: Iterable[int] = range(2015, 2051),
) -> Calendar:
    """Open `open_`..`close` local time on `weekdays`, closed on Dutch public holidays.

    Holidays are only known for `years`: a date outside them counts as an ordinary day.
    """
    return Calendar(
        hours={weekday: ((open_, close),) for weekday in weekdays},
        holidays=dutch_holidays(years),
    )


TWENTY_FOUR_SEVEN = Calendar(always_open=True)


@dataclass(frozen=True)
class Pause:
    """A period the SLA clock is stopped (waiting on the customer, resolved).

    `end` None means still paused: the clock stays stopped from `start` onwards.
    """

    start: datetime
    end: datetime | None

    def __post_init__(self) -> None:
        start = _to_utc(self.start, "Pause.start")
        if self.end is not None and _to_utc(self.end, "Pause.end") < start:
            raise ValueError(f"a pause cannot end before it starts: {self!r}")


def _to_utc(moment: datetime, name: str) -> datetime:
    # Naive datetimes are refused rather than guessed: a guess would be wrong by one or two
    # hours depending on the season, exactly the kind of error an SLA must not make.
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, not {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: a wall time inside the spring-forward gap lands after the jump and an
    # ambiguous autumn wall time means its first occurrence. Spans that collapse or overlap
    # because of that are dropped or merged by the callers.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _day_intervals(calendar: Calendar, day: date) -> list[_Interval]:
    if day in calendar.holidays:
        return []
    tz = calendar.tz
    if calendar.always_open:
        # Local midnight to local midnight: 23 or 25 real hours on the DST Sundays.
        return [(_local_to_utc(day, time(0), tz), _local_to_utc(day + _ONE_DAY, time(0), tz))]
    intervals = []
    for open_, close in calendar.hours.get(day.weekday(), ()):
        start, end = _local_to_utc(day, open_, tz), _local_to_utc(day, close, tz)
        if start < end:
            intervals.append((start, end))
    intervals.sort()
    return intervals


def _open_utc(calendar: Calendar, start: datetime, end: datetime) -> Iterator[_Interval]:
    """Open intervals clipped to [start, end) (UTC), merged where they touch or overlap."""
    if end <= start:
        return
    if calendar.always_open and not calendar.holidays:
        yield start, end
        return
    tz = calendar.tz
    # Day by day in local time: each local day knows its own UTC offset, which is what makes
    # the DST days (and their 23 or 25 hours) come out right.
    day = start.astimezone(tz).date()
    pending: _Interval | None = None
    while _local_to_utc(day, time(0), tz) < end:
        for open_at, close_at in _day_intervals(calendar, day):
            open_at, close_at = max(open_at, start), min(close_at, end)
            if open_at >= close_at:
                continue
            if pending is not None and open_at <= pending[1]:
                pending = (pending[0], max(pending[1], close_at))
                continue
            if pending is not None:
                yield pending
            pending = (open_at, close_at)
        day += _ONE_DAY
    if pending is not None:
        yield pending


def _normalise_pauses(pauses: Sequence[Pause]) -> tuple[list[_Interval], datetime | None]:
    """Closed pauses merged and sorted, and the instant an open pause stops the clock."""
    stopped_at: datetime | None = None
    closed: list[_Interval] = []
    for pause in pauses:
        start = _to_utc(pause.start, "Pause.start")
        if pause.end is None:
            stopped_at = start if stopped_at is None else min(stopped_at, start)
            continue
        end = _to_utc(pause.end, "Pause.end")
        if start < end:
            closed.append((start, end))
    closed.sort()
    merged: list[_Interval] = []
    for start, end in closed:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged, stopped_at


def _subtract(intervals: Iterable[_Interval], pauses: list[_Interval]) -> Iterator[_Interval]:
    """`intervals` (sorted, disjoint) minus `pauses` (sorted, disjoint)."""
    i = 0
    for start, end in intervals:
        while i < len(pauses) and pauses[i][1] <= start:
            i += 1
        cursor = start
        while i < len(pauses) and pauses[i][0] < end:
            pause_start, pause_end = pauses[i]
            if pause_start > cursor:
                yield cursor, pause_start
            cursor = max(cursor, pause_end)
            if pause_end > end:
                break  # the pause reaches into the next interval: keep it
            i += 1
        if cursor < end:
            yield cursor, end


def _running(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Pause]
) -> Iterator[_Interval]:
    """The intervals in [start, end) during which the SLA clock runs."""
    closed, stopped_at = _normalise_pauses(pauses)
    if stopped_at is not None:
        end = min(end, stopped_at)
    return _subtract(_open_utc(calendar, start, end), closed)


def open_intervals(
    calendar: Calendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open periods clipped to [start, end), in order, as UTC-aware pairs.

    Adjacent periods (e.g. across midnight in a 24x7 calendar with holidays) are merged.
    """
    return _open_utc(calendar, _to_utc(start, "start"), _to_utc(end, "end"))


def business_time_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Open time in [start, end) not covered by any pause; zero when end <= start.

    Pauses may overlap each other; a pause without an end stops the clock for good.
    """
    total = timedelta(0)
    for open_at, close_at in _running(
        calendar, _to_utc(start, "start"), _to_utc(end, "end"), pauses
    ):
        total += close_at - open_at
    return total


def add_business_time(
    calendar: Calendar, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """The earliest t >= start with business_time_between(calendar, start, t, pauses) ==
    duration, as UTC.

    A zero duration gives `start` itself, even when the calendar is closed then. None when a
    pause without an end stops the clock before the duration is reached. ValueError when the
    duration cannot be reached within MAX_SEARCH of `start` (a calendar that is never open).
    """
    start = _to_utc(start, "start")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration!r}")
    if not duration:
        return start
    horizon = start + MAX_SEARCH
    remaining = duration
    for open_at, close_at in _running(calendar, start, horizon, pauses):
        length = close_at - open_at
        # `<=` so that a target used up exactly at closing time is due at closing time, not
        # at the next opening: the earliest moment the business time is reached.
        if remaining <= length:
            return open_at + remaining
        remaining -= length
    _, stopped_at = _normalise_pauses(pauses)
    if stopped_at is not None and stopped_at < horizon:
        return None
    raise ValueError(
        f"{duration} of business time is not reached within {MAX_SEARCH.days} days of {start}"
    )


@dataclass(frozen=True)
class SlaTargets:
    response: timedelta | None
    resolution: timedelta | None
    calendar: Calendar


@dataclass(frozen=True)
class SlaFacts:
    created_at: datetime
    targets: SlaTargets
    pauses: tuple[Pause, ...] = ()
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    extended_until: datetime | None = None


@dataclass(frozen=True)
class SlaState:
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    response_warn_at: datetime | None
    resolution_warn_at: datetime | None
    response_breached: bool
    resolution_breached: bool
    # The SLA-clock time (calendar open, pauses excluded) it took to answer and
    # to resolve; None until it happened. Stored so reports average it in SQL.
    response_business_seconds: int | None = None
    resolution_business_seconds: int | None = None


def _optional_utc(moment: datetime | None, name: str) -> datetime | None:
    return None if moment is None else _to_utc(moment, name)


def compute_sla(facts: SlaFacts, *, now: datetime, warning_fraction: float) -> SlaState:
    """The due, warning and breach state of one ticket at `now`.

    A clock stopped by an open pause gives no due time and no breach, unless the target was
    already used up before the pause began: then the due time lies before the pause and the
    breach stands.
    """
    if not 0 < warning_fraction < 1:  # also rejects NaN
        raise ValueError(f"warning_fraction must be between 0 and 1, got {warning_fraction!r}")
    now = _to_utc(now, "now")
    created_at = _to_utc(facts.created_at, "created_at")
    first_response_at = _optional_utc(facts.first_response_at, "first_response_at")
    resolved_at = _optional_utc(facts.resolved_at, "resolved_at")
    extended_until = _optional_utc(facts.extended_until, "extended_until")
    targets, pauses = facts.targets, facts.pauses
    calendar = targets.calendar

    def due(target: timedelta | None, fraction: float = 1.0) -> datetime | None:
        if target is None:
            return None
        return add_business_time(calendar, created_at, target * fraction, pauses)

    response_due_at = due(targets.response)
    response_warn_at = due(targets.response, warning_fraction)
    if extended_until is not None:
        # An extension is an appointment agreed with the customer: a fixed instant, not
        # business time, and the warning for the original target has already gone out.
        resolution_due_at: datetime | None = extended_until
        resolution_warn_at = None
    else:
        resolution_due_at = due(targets.resolution)
        resolution_warn_at = due(targets.resolution, warning_fraction)

    # Once answered (or resolved) the verdict is fixed by that moment, not by `now`.
    responded_or_now = first_response_at or now
    resolved_or_now = resolved_at or now
    response_breached = response_due_at is not None and responded_or_now > response_due_at
    resolution_breached = resolution_due_at is not None and resolved_or_now > resolution_due_at

    def clock(end: datetime | None) -> int | None:
        if end is None:
            return None
        return int(business_time_between(calendar, created_at, end, pauses).total_seconds())

    return SlaState(
        response_due_at=response_due_at,
        resolution_due_at=resolution_due_at,
        response_warn_at=response_warn_at,
        resolution_warn_at=resolution_warn_at,
        response_breached=response_breached,
        resolution_breached=resolution_breached,
        response_business_seconds=clock(first_response_at),
        resolution_business_seconds=clock(resolved_at),
    )
