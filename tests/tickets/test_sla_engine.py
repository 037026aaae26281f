"""The pure SLA clock (tickets/sla.py): no database, no Django, no real clock.

Expected times are written as Amsterdam wall-clock times because that is how the desk and
its customers read them; the DST cases also pin the UTC instant, because that is where an
off-by-one-hour error would show.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time as timer
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.sla import (
    AMSTERDAM,
    TWENTY_FOUR_SEVEN,
    Calendar,
    Pause,
    SlaFacts,
    SlaState,
    SlaTargets,
    add_business_time,
    business_hours,
    business_time_between,
    compute_sla,
    dutch_holidays,
    open_intervals,
)

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)
BH = business_hours()  # Mon-Fri 08:30-17:30, Dutch public holidays
NEW_YORK = ZoneInfo("America/New_York")


def ams(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=AMSTERDAM)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# --- add_business_time: the table ----------------------------------------------------------

# 2026-01-16 is a Friday in winter time (UTC+1).
ADD_CASES: list[Any] = [
    # Fri 17:00-17:30 counts half an hour, so 1 h lands at Monday 09:00, not 09:30.
    pytest.param(BH, ams(2026, 1, 16, 17), H, (), ams(2026, 1, 19, 9), id="fri-1700-1h"),
    # 0.5 (Fri) + 9 (Mon) + 6.5 (Tue from 08:30)
    pytest.param(BH, ams(2026, 1, 16, 17), 16 * H, (), ams(2026, 1, 20, 15), id="fri-1700-16h"),
    # 0.5 + 4 x 9 = 36.5, then 3.5 h on Friday
    pytest.param(BH, ams(2026, 1, 16, 17), 40 * H, (), ams(2026, 1, 23, 12), id="fri-1700-P3-40h"),
    # At closing time nothing is left on Friday: Mon 9 h + Tue 7 h.
    pytest.param(BH, ams(2026, 1, 16, 17, 30), H, (), ams(2026, 1, 19, 9, 30), id="fri-1730-1h"),
    pytest.param(
        BH, ams(2026, 1, 16, 17, 30), 16 * H, (), ams(2026, 1, 20, 15, 30), id="fri-1730-16h"
    ),
    # Created outside business hours: the clock starts at 08:30 of the next business day.
    pytest.param(BH, ams(2026, 1, 17, 10), H, (), ams(2026, 1, 19, 9, 30), id="saturday"),
    pytest.param(BH, ams(2026, 1, 18, 23), H, (), ams(2026, 1, 19, 9, 30), id="sunday-night"),
    pytest.param(BH, ams(2026, 1, 20, 7), H, (), ams(2026, 1, 20, 9, 30), id="tuesday-0700"),
    pytest.param(BH, ams(2026, 1, 20, 18), H, (), ams(2026, 1, 21, 9, 30), id="tuesday-1800"),
    pytest.param(BH, ams(2026, 1, 19, 8, 30), H, (), ams(2026, 1, 19, 9, 30), id="at-opening"),
    # Used up exactly at closing time: due at 17:30, not at the next opening.
    pytest.param(BH, ams(2026, 1, 19, 16, 30), H, (), ams(2026, 1, 19, 17, 30), id="at-closing"),
    pytest.param(BH, ams(2026, 1, 17, 10), timedelta(0), (), ams(2026, 1, 17, 10), id="zero"),
    # The same instant given in other zones.
    pytest.param(BH, utc(2026, 1, 16, 16), H, (), ams(2026, 1, 19, 9), id="start-in-utc"),
    pytest.param(
        BH,
        datetime(2026, 1, 16, 11, tzinfo=NEW_YORK),
        H,
        (),
        ams(2026, 1, 19, 9),
        id="start-in-new-york",
    ),
    # Holidays. King's Day 2026 is Monday 27 April: 0.5 (Fri) + 1.5 (Tue).
    pytest.param(BH, ams(2026, 4, 24, 17), 2 * H, (), ams(2026, 4, 28, 10), id="kings-day"),
    # Christmas Fri 25 + Sat 26 Dec 2026: 1 h on Thursday, 3 h on Monday.
    pytest.param(BH, ams(2026, 12, 24, 16, 30), 4 * H, (), ams(2026, 12, 28, 11, 30), id="xmas"),
    # Easter Monday 6 April 2026.
    pytest.param(BH, ams(2026, 4, 3, 17), H, (), ams(2026, 4, 7, 9), id="easter-monday"),
    # Good Friday is not a public holiday in the Netherlands.
    pytest.param(BH, ams(2026, 4, 2, 17), H, (), ams(2026, 4, 3, 9), id="good-friday-open"),
    pytest.param(BH, ams(2026, 5, 13, 17), H, (), ams(2026, 5, 15, 9), id="ascension"),
    pytest.param(BH, ams(2026, 5, 22, 17), H, (), ams(2026, 5, 26, 9), id="whit-monday"),
    pytest.param(BH, ams(2026, 12, 31, 17), H, (), ams(2027, 1, 4, 9), id="new-year"),
    # DST weekends: business hours stay 08:30-17:30 local, so the UTC instant moves.
    pytest.param(BH, ams(2026, 3, 27, 17), H, (), utc(2026, 3, 30, 7), id="spring-dst-1700"),
    pytest.param(
        BH, ams(2026, 3, 27, 17, 30), H, (), utc(2026, 3, 30, 7, 30), id="spring-dst-1730"
    ),
    pytest.param(BH, ams(2026, 10, 23, 17), H, (), utc(2026, 10, 26, 8), id="autumn-dst-1700"),
    pytest.param(
        BH, ams(2026, 10, 23, 17, 30), H, (), utc(2026, 10, 26, 8, 30), id="autumn-dst-1730"
    ),
    # Friday 10:00 summer (08:00 UTC) + 9 h: Fri 7.5 h, then Mon 1.5 h in winter time.
    pytest.param(BH, ams(2026, 10, 23, 10), 9 * H, (), utc(2026, 10, 26, 9), id="autumn-dst-span"),
    # 24x7: real elapsed time, whatever the wall clock does.
    pytest.param(
        TWENTY_FOUR_SEVEN, ams(2026, 1, 17, 3), 4 * H, (), ams(2026, 1, 17, 7), id="24x7-P1-sat"
    ),
    pytest.param(
        TWENTY_FOUR_SEVEN,
        ams(2026, 3, 29, 0, 30),
        4 * H,
        (),
        utc(2026, 3, 29, 3, 30),
        id="24x7-23h",
    ),
    pytest.param(
        TWENTY_FOUR_SEVEN,
        ams(2026, 10, 25, 0, 30),
        4 * H,
        (),
        utc(2026, 10, 25, 2, 30),
        id="24x7-25h",
    ),
    # Pauses. Waiting on the customer Fri 16:30 - Mon 10:00: 0.5 h + 1.5 h.
    pytest.param(
        BH,
        ams(2026, 1, 16, 16),
        2 * H,
        (Pause(ams(2026, 1, 16, 16, 30), ams(2026, 1, 19, 10)),),
        ams(2026, 1, 19, 11, 30),
        id="pause-over-weekend",
    ),
    pytest.param(
        BH,
        ams(2026, 1, 19, 9),
        2 * H,
        (Pause(ams(2026, 1, 19, 10), ams(2026, 1, 19, 11)),),
        ams(2026, 1, 19, 12),
        id="pause-within-day",
    ),
    pytest.param(
        BH,
        ams(2026, 1, 19, 9),
        2 * H,
        (
            Pause(ams(2026, 1, 19, 10, 30), ams(2026, 1, 19, 11, 30)),
            Pause(ams(2026, 1, 19, 10), ams(2026, 1, 19, 11)),
        ),
        ams(2026, 1, 19, 12, 30),
        id="overlapping-pauses",
    ),
    pytest.param(
        BH,
        ams(2026, 1, 19, 9),
        H,
        (Pause(ams(2026, 1, 19, 8), ams(2026, 1, 19, 10)),),
        ams(2026, 1, 19, 11),
        id="pause-from-before-start",
    ),
    pytest.param(
        BH,
        ams(2026, 1, 19, 9),
        H,
        (Pause(ams(2026, 1, 19, 9, 30), ams(2026, 1, 19, 9, 30)),),
        ams(2026, 1, 19, 10),
        id="empty-pause",
    ),
    pytest.param(
        BH,
        ams(2026, 1, 19, 9),
        H,
        (Pause(ams(2026, 1, 19, 12), None),),
        ams(2026, 1, 19, 10),
        id="open-pause-after-due",
    ),
]


@pytest.mark.parametrize(("calendar", "start", "duration", "pauses", "expected"), ADD_CASES)
def test_add_business_time(
    calendar: Calendar,
    start: datetime,
    duration: timedelta,
    pauses: tuple[Pause, ...],
    expected: datetime,
) -> None:
    due = add_business_time(calendar, start, duration, pauses)
    assert due == expected
    assert due is not None and due.tzinfo is UTC
    assert business_time_between(calendar, start, due, pauses) == duration


@pytest.mark.parametrize(
    ("start", "expected_local"),
    [
        pytest.param(ams(2026, 3, 29, 0, 30), ams(2026, 3, 29, 5, 30), id="spring-23h-day"),
        pytest.param(ams(2026, 10, 25, 0, 30), ams(2026, 10, 25, 3, 30), id="autumn-25h-day"),
    ],
)
def test_24x7_across_dst_is_real_elapsed_time(start: datetime, expected_local: datetime) -> None:
    due = add_business_time(TWENTY_FOUR_SEVEN, start, 4 * H)
    assert due is not None
    assert due - start == 4 * H
    assert due.astimezone(AMSTERDAM).replace(tzinfo=None) == expected_local.replace(tzinfo=None)


@pytest.mark.parametrize(
    "pauses",
    [
        pytest.param((Pause(ams(2026, 1, 16, 16, 30), None),), id="open-from-friday"),
        pytest.param((Pause(ams(2026, 1, 15, 9), None),), id="open-before-creation"),
        pytest.param(
            (
                Pause(ams(2026, 1, 16, 16, 30), ams(2026, 1, 19, 9)),
                Pause(ams(2026, 1, 19, 9), None),
            ),
            id="closed-then-open",
        ),
    ],
)
def test_an_open_pause_stops_the_clock(pauses: tuple[Pause, ...]) -> None:
    assert add_business_time(BH, ams(2026, 1, 16, 16), 2 * H, pauses) is None
    assert add_business_time(BH, ams(2026, 1, 16, 16), timedelta(0), pauses) == ams(2026, 1, 16, 16)


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "pauses"),
    [
        pytest.param(BH, ams(2026, 1, 19, 9), -MIN, (), id="negative-duration"),
        pytest.param(BH, datetime(2026, 1, 19, 9), H, (), id="naive-start"),
        pytest.param(Calendar(), ams(2026, 1, 19, 9), H, (), id="never-open"),
        pytest.param(
            Calendar(hours={0: ((time(9), time(10)),)}),
            ams(2026, 1, 19, 9),
            1000 * H,
            (),
            id="beyond-ten-years",
        ),
    ],
)
def test_add_business_time_refuses(
    calendar: Calendar, start: datetime, duration: timedelta, pauses: tuple[Pause, ...]
) -> None:
    with pytest.raises(ValueError):
        add_business_time(calendar, start, duration, pauses)


def test_add_business_time_is_fast() -> None:
    # Day by day, not minute by minute: a year of business hours must be cheap.
    start = ams(2026, 1, 16, 17)
    began = timer.perf_counter()
    for _ in range(20):
        add_business_time(BH, start, 2000 * H)
    assert timer.perf_counter() - began < 1.0


# --- open_intervals and business_time_between ----------------------------------------------

EVERY_DAY = business_hours(weekdays=range(7), years=())


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        pytest.param(
            BH,
            ams(2026, 1, 16, 12),
            ams(2026, 1, 20, 10),
            [
                (utc(2026, 1, 16, 11), utc(2026, 1, 16, 16, 30)),
                (utc(2026, 1, 19, 7, 30), utc(2026, 1, 19, 16, 30)),
                (utc(2026, 1, 20, 7, 30), utc(2026, 1, 20, 9)),
            ],
            id="clipped-week",
        ),
        pytest.param(
            EVERY_DAY,
            ams(2026, 3, 28),
            ams(2026, 3, 30),
            [
                (utc(2026, 3, 28, 7, 30), utc(2026, 3, 28, 16, 30)),
                (utc(2026, 3, 29, 6, 30), utc(2026, 3, 29, 15, 30)),
            ],
            id="spring-dst-weekend",
        ),
        pytest.param(
            EVERY_DAY,
            ams(2026, 10, 24),
            ams(2026, 10, 26),
            [
                (utc(2026, 10, 24, 6, 30), utc(2026, 10, 24, 15, 30)),
                (utc(2026, 10, 25, 7, 30), utc(2026, 10, 25, 16, 30)),
            ],
            id="autumn-dst-weekend",
        ),
        pytest.param(
            Calendar(always_open=True, holidays=frozenset({date(2026, 12, 25)})),
            ams(2026, 12, 24, 12),
            ams(2026, 12, 27, 12),
            [
                (utc(2026, 12, 24, 11), utc(2026, 12, 24, 23)),
                (utc(2026, 12, 25, 23), utc(2026, 12, 27, 11)),
            ],
            id="24x7-with-holiday-merged-across-midnight",
        ),
        pytest.param(
            Calendar(hours={0: ((time(8), time(12)), (time(11), time(13)), (time(14), time(15)))}),
            ams(2026, 1, 19),
            ams(2026, 1, 20),
            [
                (utc(2026, 1, 19, 7), utc(2026, 1, 19, 12)),
                (utc(2026, 1, 19, 13), utc(2026, 1, 19, 14)),
            ],
            id="overlapping-spans-merged",
        ),
        pytest.param(BH, ams(2026, 1, 20, 10), ams(2026, 1, 20, 9), [], id="end-before-start"),
        pytest.param(BH, ams(2026, 1, 17), ams(2026, 1, 19), [], id="weekend"),
    ],
)
def test_open_intervals(
    calendar: Calendar,
    start: datetime,
    end: datetime,
    expected: list[tuple[datetime, datetime]],
) -> None:
    intervals = list(open_intervals(calendar, start, end))
    assert intervals == expected
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in intervals)


@pytest.mark.parametrize(
    ("calendar", "start", "end", "pauses", "expected"),
    [
        pytest.param(
            TWENTY_FOUR_SEVEN, ams(2026, 3, 29), ams(2026, 3, 30), (), 23 * H, id="23h-day"
        ),
        pytest.param(
            TWENTY_FOUR_SEVEN, ams(2026, 10, 25), ams(2026, 10, 26), (), 25 * H, id="25h-day"
        ),
        pytest.param(
            TWENTY_FOUR_SEVEN, ams(2026, 1, 25), ams(2026, 1, 26), (), 24 * H, id="24h-day"
        ),
        pytest.param(BH, ams(2026, 1, 19), ams(2026, 1, 26), (), 45 * H, id="plain-week"),
        pytest.param(BH, ams(2026, 4, 27), ams(2026, 5, 4), (), 36 * H, id="kings-day-week"),
        pytest.param(BH, ams(2026, 12, 21), ams(2026, 12, 28), (), 36 * H, id="christmas-week"),
        pytest.param(BH, ams(2026, 3, 23), ams(2026, 4, 6), (), 90 * H, id="over-spring-dst"),
        pytest.param(BH, ams(2026, 1, 20, 10), ams(2026, 1, 20, 9), (), timedelta(0), id="reverse"),
        pytest.param(
            BH,
            ams(2026, 1, 19),
            ams(2026, 1, 26),
            (Pause(ams(2026, 1, 21, 12), None),),
            (9 + 9 + 3.5) * H,
            id="open-pause",
        ),
        pytest.param(
            BH,
            ams(2026, 1, 19),
            ams(2026, 1, 20),
            (
                Pause(ams(2026, 1, 19, 9), ams(2026, 1, 19, 10)),
                Pause(ams(2026, 1, 19, 9, 30), ams(2026, 1, 19, 11)),
                Pause(ams(2026, 1, 19, 17), ams(2026, 1, 20, 12)),
            ),
            (9 - 2 - 0.5) * H,
            id="overlapping-pauses",
        ),
    ],
)
def test_business_time_between(
    calendar: Calendar,
    start: datetime,
    end: datetime,
    pauses: tuple[Pause, ...],
    expected: timedelta,
) -> None:
    assert business_time_between(calendar, start, end, pauses) == expected


# --- compute_sla ---------------------------------------------------------------------------

CREATED = ams(2026, 1, 19, 9)  # Monday
BH_TARGETS = SlaTargets(response=H, resolution=16 * H, calendar=BH)
P1_TARGETS = SlaTargets(response=MIN * 30, resolution=4 * H, calendar=TWENTY_FOUR_SEVEN)
NO_TARGETS = SlaTargets(response=None, resolution=None, calendar=BH)
# Response: due Mon 10:00, warn 09:45. Resolution (16 h): Mon 8.5 h + Tue 7.5 h -> Tue 16:00;
# warn after 12 h: Mon 8.5 h + Tue 3.5 h -> Tue 12:00.
FRESH = SlaState(
    response_due_at=ams(2026, 1, 19, 10),
    resolution_due_at=ams(2026, 1, 20, 16),
    response_warn_at=ams(2026, 1, 19, 9, 45),
    resolution_warn_at=ams(2026, 1, 20, 12),
    response_breached=False,
    resolution_breached=False,
)


@dataclass(frozen=True)
class Case:
    now: datetime
    expected: SlaState
    targets: SlaTargets = BH_TARGETS
    created_at: datetime = CREATED
    pauses: tuple[Pause, ...] = ()
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    extended_until: datetime | None = None
    warning_fraction: float = 0.75


def with_(state: SlaState, **changes: Any) -> SlaState:
    return SlaState(**{**state.__dict__, **changes})


SLA_CASES = [
    pytest.param(Case(now=ams(2026, 1, 19, 9, 30), expected=FRESH), id="fresh"),
    pytest.param(Case(now=ams(2026, 1, 19, 10), expected=FRESH), id="response-due-now-not-late"),
    pytest.param(
        Case(
            now=ams(2026, 1, 19, 10) + US,
            expected=with_(FRESH, response_breached=True),
        ),
        id="response-overdue-unanswered",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 21, 9),
            first_response_at=ams(2026, 1, 19, 9, 59),
            expected=with_(FRESH, resolution_breached=True, response_business_seconds=59 * 60),
        ),
        id="responded-in-time-resolution-overdue",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 19, 11),
            first_response_at=ams(2026, 1, 19, 10, 1),
            expected=with_(FRESH, response_breached=True, response_business_seconds=61 * 60),
        ),
        id="responded-late",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 23, 12),
            first_response_at=ams(2026, 1, 19, 9, 5),
            resolved_at=ams(2026, 1, 20, 15),
            expected=with_(
                FRESH, response_business_seconds=5 * 60, resolution_business_seconds=15 * 3600
            ),
        ),
        id="resolved-in-time",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 23, 12),
            first_response_at=ams(2026, 1, 19, 9, 5),
            resolved_at=ams(2026, 1, 20, 16, 1),
            expected=with_(
                FRESH,
                resolution_breached=True,
                response_business_seconds=5 * 60,
                resolution_business_seconds=16 * 3600 + 60,
            ),
        ),
        id="resolved-late",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 21, 9),
            first_response_at=ams(2026, 1, 19, 9, 5),
            extended_until=ams(2026, 1, 22, 15),
            expected=with_(
                FRESH,
                resolution_due_at=ams(2026, 1, 22, 15),
                resolution_warn_at=None,
                response_business_seconds=5 * 60,
            ),
        ),
        id="extension-moves-due-and-clears-warning",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 22, 15, 1),
            first_response_at=ams(2026, 1, 19, 9, 5),
            extended_until=ams(2026, 1, 22, 15),
            expected=with_(
                FRESH,
                resolution_due_at=ams(2026, 1, 22, 15),
                resolution_warn_at=None,
                resolution_breached=True,
                response_business_seconds=5 * 60,
            ),
        ),
        id="extension-missed",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 23, 9),
            first_response_at=ams(2026, 1, 19, 9, 5),
            pauses=(Pause(ams(2026, 1, 19, 9, 30), None),),
            expected=with_(
                FRESH,
                response_due_at=None,
                response_warn_at=None,
                resolution_due_at=None,
                resolution_warn_at=None,
                response_business_seconds=5 * 60,
            ),
        ),
        id="waiting-on-customer-stops-clock",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 23, 9),
            pauses=(Pause(ams(2026, 1, 19, 10, 30), None),),
            expected=with_(
                FRESH, resolution_due_at=None, resolution_warn_at=None, response_breached=True
            ),
        ),
        id="breached-before-pause-stays-breached",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 20, 17),
            first_response_at=ams(2026, 1, 19, 9, 5),
            # Waiting on the customer Mon 10:00 - Tue 10:00: Mon 1 h, Tue 7.5 h, Wed 7.5 h.
            pauses=(Pause(ams(2026, 1, 19, 10), ams(2026, 1, 20, 10)),),
            expected=with_(
                FRESH,
                resolution_due_at=ams(2026, 1, 21, 16),
                # 12 h: Mon 1 h, Tue 7.5 h, Wed 3.5 h
                resolution_warn_at=ams(2026, 1, 21, 12),
                response_business_seconds=5 * 60,
            ),
        ),
        id="paused-and-resumed",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 20, 17),
            first_response_at=ams(2026, 1, 19, 9, 5),
            pauses=(Pause(ams(2026, 1, 19, 10), ams(2026, 1, 20, 10)),),
            resolved_at=ams(2026, 1, 20, 12),
            expected=with_(
                FRESH,
                resolution_due_at=ams(2026, 1, 21, 16),
                resolution_warn_at=ams(2026, 1, 21, 12),
                response_business_seconds=5 * 60,
                # Mon 09:00-10:00 and Tue 10:00-12:00: the pause does not count.
                resolution_business_seconds=3 * 3600,
            ),
        ),
        id="resolved-after-a-pause-counts-business-time-without-it",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 19, 10, 30),
            warning_fraction=0.5,
            expected=with_(
                FRESH,
                response_warn_at=ams(2026, 1, 19, 9, 30),
                # 8 h: Mon 09:00-17:00
                resolution_warn_at=ams(2026, 1, 19, 17),
                response_breached=True,
            ),
        ),
        id="warning-at-half",
    ),
    pytest.param(
        Case(
            now=ams(2026, 1, 17, 8),
            targets=P1_TARGETS,
            created_at=ams(2026, 1, 17, 3),
            first_response_at=ams(2026, 1, 17, 3, 10),
            expected=SlaState(
                response_due_at=ams(2026, 1, 17, 3, 30),
                resolution_due_at=ams(2026, 1, 17, 7),
                response_warn_at=ams(2026, 1, 17, 3, 22, 30),
                resolution_warn_at=ams(2026, 1, 17, 6),
                response_breached=False,
                resolution_breached=True,
                response_business_seconds=10 * 60,
            ),
        ),
        id="24x7-P1-managed-saturday",
    ),
    pytest.param(
        Case(
            now=ams(2030, 1, 1),
            targets=NO_TARGETS,
            expected=SlaState(None, None, None, None, False, False),
        ),
        id="no-targets",
    ),
]


@pytest.mark.parametrize("case", SLA_CASES)
def test_compute_sla(case: Case) -> None:
    facts = SlaFacts(
        created_at=case.created_at,
        targets=case.targets,
        pauses=case.pauses,
        first_response_at=case.first_response_at,
        resolved_at=case.resolved_at,
        extended_until=case.extended_until,
    )
    state = compute_sla(facts, now=case.now, warning_fraction=case.warning_fraction)
    assert state == case.expected
    for value in state.__dict__.values():
        assert not isinstance(value, datetime) or value.tzinfo is UTC


@pytest.mark.parametrize("fraction", [0, 1, -0.25, 1.5, math.nan, math.inf])
def test_compute_sla_rejects_warning_fraction(fraction: float) -> None:
    facts = SlaFacts(created_at=CREATED, targets=BH_TARGETS)
    with pytest.raises(ValueError, match="warning_fraction"):
        compute_sla(facts, now=CREATED, warning_fraction=fraction)


def test_compute_sla_rejects_a_naive_now() -> None:
    facts = SlaFacts(created_at=CREATED, targets=BH_TARGETS)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_sla(facts, now=datetime(2026, 1, 19, 9), warning_fraction=0.75)


# --- calendars, holidays and pauses --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        pytest.param(date(2026, 4, 27), True, id="kings-day-2026"),
        pytest.param(date(2025, 4, 26), True, id="kings-day-2025-moved-to-saturday"),
        pytest.param(date(2026, 12, 25), True, id="christmas"),
        pytest.param(date(2026, 12, 26), True, id="boxing-day"),
        pytest.param(date(2026, 4, 6), True, id="easter-monday"),
        pytest.param(date(2026, 5, 14), True, id="ascension"),
        pytest.param(date(2026, 5, 25), True, id="whit-monday"),
        pytest.param(date(2027, 1, 1), True, id="new-year"),
        pytest.param(date(2026, 4, 3), False, id="good-friday"),
        pytest.param(date(2026, 12, 24), False, id="christmas-eve"),
    ],
)
def test_dutch_holidays(day: date, closed: bool) -> None:
    assert (day in dutch_holidays([day.year])) is closed
    assert (day in BH.holidays) is closed


def test_business_hours_only_knows_holidays_for_its_years() -> None:
    assert date(2026, 4, 27) not in business_hours(years=[2025]).holidays
    assert business_hours(years=()).holidays == frozenset()


def test_calendar_is_hashable_and_frozen() -> None:
    hours = {0: ((time(9), time(17)),)}
    calendar = Calendar(hours=hours)
    hours[1] = ((time(9), time(17)),)
    assert dict(calendar.hours) == {0: ((time(9), time(17)),)}
    assert calendar == Calendar(hours={0: [(time(9), time(17))]})  # type: ignore[dict-item]
    assert hash(calendar) == hash(Calendar(hours={0: ((time(9), time(17)),)}))
    assert {BH: "ok"}[business_hours()] == "ok"
    assert TWENTY_FOUR_SEVEN.always_open
    assert 1 not in calendar.hours
    assert calendar.hours.get(1) is None


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param({0: ((time(17), time(9)),)}, id="close-before-open"),
        pytest.param({0: ((time(9), time(9)),)}, id="empty-span"),
        pytest.param({7: ((time(9), time(17)),)}, id="weekday-7"),
        pytest.param({0: ((time(9, tzinfo=UTC), time(17, tzinfo=UTC)),)}, id="aware-times"),
        pytest.param({0: ((time(9),),)}, id="not-a-pair"),
    ],
)
def test_calendar_rejects_bad_hours(hours: Any) -> None:
    with pytest.raises(ValueError):
        Calendar(hours=hours)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(ams(2026, 1, 19, 10), ams(2026, 1, 19, 9), id="ends-before-start"),
        pytest.param(datetime(2026, 1, 19, 9), None, id="naive"),
    ],
)
def test_pause_rejects(start: datetime, end: datetime | None) -> None:
    with pytest.raises(ValueError):
        Pause(start, end)


def test_the_module_does_not_need_django() -> None:
    code = (
        "import sys, tickets.sla; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


# --- properties ----------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(deadline=None, database=None, max_examples=150)

# Calendars whose spans stay clear of the DST hour, so a wall-clock oracle is exact for them.
REGULAR_CALENDARS = [
    BH,
    TWENTY_FOUR_SEVEN,
    EVERY_DAY,
    Calendar(always_open=True, holidays=dutch_holidays(range(2024, 2030))),
    Calendar(
        hours={wd: ((time(8), time(12)), (time(13), time(17))) for wd in range(6)},
        holidays=dutch_holidays(range(2024, 2030)),
    ),
    Calendar(hours={wd: ((time(0), time(6)), (time(22), time(23, 59))) for wd in range(7)}),
    Calendar(hours={wd: ((time(9), time(17)),) for wd in range(5)}, tz=NEW_YORK),
]


@st.composite
def random_calendars(draw: st.DrawFn) -> Calendar:
    # Any minute of the day, including the spring-forward gap and the repeated autumn hour.
    def span(opening: int, length: int) -> tuple[time, time]:
        close = min(opening + length, 24 * 60 - 1)
        return time(*divmod(opening, 60)), time(*divmod(close, 60))

    spans = st.builds(span, st.integers(0, 24 * 60 - 31), st.integers(30, 24 * 60))
    hours = draw(
        st.dictionaries(st.integers(0, 6), st.lists(spans, min_size=1, max_size=3), min_size=1)
    )
    holidays = dutch_holidays(range(2024, 2031)) if draw(st.booleans()) else frozenset()
    return Calendar(hours={wd: tuple(s) for wd, s in hours.items()}, holidays=holidays)


calendars = st.one_of(st.sampled_from(REGULAR_CALENDARS), random_calendars())
starts = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59),
    timezones=st.sampled_from([AMSTERDAM, UTC, NEW_YORK]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=80 * H)


@st.composite
def starts_and_pauses(draw: st.DrawFn) -> tuple[datetime, tuple[Pause, ...]]:
    start = draw(starts)
    cursor = start + draw(st.timedeltas(min_value=-48 * H, max_value=120 * H))
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        length = draw(st.timedeltas(min_value=timedelta(0), max_value=72 * H))
        pauses.append(Pause(cursor, cursor + length))
        cursor += length + draw(st.timedeltas(min_value=timedelta(0), max_value=72 * H))
    return start, tuple(pauses)


@PROPERTY_SETTINGS
@given(calendars, starts_and_pauses(), durations, durations)
def test_property_add_then_measure_round_trips(
    calendar: Calendar,
    start_and_pauses: tuple[datetime, tuple[Pause, ...]],
    d1: timedelta,
    d2: timedelta,
) -> None:
    start, pauses = start_and_pauses
    d1, d2 = sorted((d1, d2))
    due1 = add_business_time(calendar, start, d1, pauses)
    due2 = add_business_time(calendar, start, d2, pauses)
    assert due1 is not None and due2 is not None
    assert due1.tzinfo is UTC and due2.tzinfo is UTC
    assert start <= due1 <= due2
    assert business_time_between(calendar, start, due1, pauses) == d1
    assert business_time_between(calendar, start, due2, pauses) == d2
    for duration, due in ((d1, due1), (d2, due2)):
        if duration:
            # The microsecond before the due time is open and unpaused: never due inside a
            # closed period or a pause, and nothing earlier would do.
            assert business_time_between(calendar, due - US, due, pauses) == US
        else:
            assert due == start


@PROPERTY_SETTINGS
@given(calendars, starts_and_pauses(), durations, durations)
def test_property_business_time_is_additive(
    calendar: Calendar,
    start_and_pauses: tuple[datetime, tuple[Pause, ...]],
    offset1: timedelta,
    offset2: timedelta,
) -> None:
    start, pauses = start_and_pauses
    middle, end = start + min(offset1, offset2), start + max(offset1, offset2)
    whole = business_time_between(calendar, start, end, pauses)
    assert whole == business_time_between(calendar, start, middle, pauses) + business_time_between(
        calendar, middle, end, pauses
    )
    # Subtracting two datetimes of one zone gives wall-clock time; across a
    # DST change the real elapsed time differs, so compare in UTC.
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    assert whole <= business_time_between(calendar, start, end) <= elapsed
    # Pauses in any order, duplicated, or split in two mean the same thing.
    halves = []
    for pause in pauses:
        assert pause.end is not None
        middle_of_pause = pause.start + (pause.end - pause.start) / 2
        halves += [Pause(pause.start, middle_of_pause), Pause(middle_of_pause, pause.end)]
    assert whole == business_time_between(calendar, start, end, (*reversed(pauses), *pauses))
    assert whole == business_time_between(calendar, start, end, halves)


def wall_clock_open(calendar: Calendar, instant: datetime) -> bool:
    local = instant.astimezone(calendar.tz)
    if local.date() in calendar.holidays:
        return False
    if calendar.always_open:
        return True
    spans = calendar.hours.get(local.weekday(), ())
    return any(open_ <= local.time() < close for open_, close in spans)


@PROPERTY_SETTINGS
@given(
    st.sampled_from(REGULAR_CALENDARS),
    starts,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=15)),
    st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), max_size=20),
)
def test_property_open_intervals_match_the_wall_clock(
    calendar: Calendar, start: datetime, length: timedelta, samples: list[float]
) -> None:
    end = start + length
    intervals = list(open_intervals(calendar, start, end))
    previous_end = None
    for a, b in intervals:
        assert start <= a < b <= end
        assert previous_end is None or previous_end < a
        previous_end = b
        assert wall_clock_open(calendar, a)
        assert wall_clock_open(calendar, b - US)
    assert sum((b - a for a, b in intervals), timedelta(0)) == business_time_between(
        calendar, start, end
    )
    for fraction in samples:
        instant = start + length * fraction
        if instant < end:
            inside = any(a <= instant < b for a, b in intervals)
            assert inside == wall_clock_open(calendar, instant)
