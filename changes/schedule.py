"""The forward schedule of change. Pure: no database, `now` passed in.

Which planned changes touch the same machine at the same time, which freeze
windows a planned window falls in, and the schedule as iCalendar (RFC 5545)
text. Windows are half-open [start, end): a change ending at 12:00 and one
starting at 12:00 do not overlap."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

PRODID = "-//Servicedesk//Forward schedule of change//EN"
UID_DOMAIN = "servicedesk"
# RFC 5545 3.1: lines longer than 75 octets (excluding the CRLF) are folded.
MAX_LINE_OCTETS = 75
CRLF = "\r\n"


class Planned(Protocol):
    """A change as the schedule sees it (a Change row or a test double)."""

    @property
    def number(self) -> str | None: ...
    @property
    def planned_start(self) -> datetime | None: ...
    @property
    def planned_end(self) -> datetime | None: ...
    @property
    def affected_machines(self) -> Sequence[str]: ...


class CalendarChange(Planned, Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def classification(self) -> str: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class Freeze:
    """A freeze window, detached from the database so the rules stay pure.
    It applies to every machine, or to the listed customers and machines."""

    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    applies_to_all: bool = True
    customer_ids: frozenset[int] = frozenset()
    machines: tuple[str, ...] = ()
    id: int | None = None
    customer_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


P = TypeVar("P", bound=Planned)


def _machines(names: Iterable[str]) -> frozenset[str]:
    # Hostnames are case-insensitive; the service stores them lower-case, but
    # freeze windows are typed in by hand.
    return frozenset(name.strip().lower() for name in names if name and name.strip())


def windows_overlap(a: Window, b: Window) -> bool:
    return a.start < b.end and b.start < a.end


def window_of(change: Planned) -> Window | None:
    if change.planned_start is None or change.planned_end is None:
        return None
    return Window(change.planned_start, change.planned_end)


def overlaps(changes: Iterable[P]) -> list[tuple[P, P, tuple[str, ...]]]:
    """Pairs of changes whose planned windows overlap and whose affected
    machines intersect, with the shared machines; ordered by start time."""
    planned = sorted(
        ((window, change) for change in changes if (window := window_of(change)) is not None),
        key=lambda item: (item[0].start, item[0].end, item[1].number or ""),
    )
    found: list[tuple[P, P, tuple[str, ...]]] = []
    for i, (window, change) in enumerate(planned):
        machines = _machines(change.affected_machines)
        for other_window, other in planned[i + 1 :]:
            # Sorted by start: once one starts at or after this end, all later ones do.
            if other_window.start >= window.end:
                break
            shared = machines & _machines(other.affected_machines)
            if shared and windows_overlap(window, other_window):
                found.append((change, other, tuple(sorted(shared))))
    return found


def freeze_applies(freeze: Freeze, machines: Iterable[str], customer_id: int | None) -> bool:
    if freeze.applies_to_all:
        return True
    if customer_id is not None and customer_id in freeze.customer_ids:
        return True
    return bool(_machines(machines) & _machines(freeze.machines))


def freeze_conflicts(
    change_window: Window | tuple[datetime, datetime] | None,
    machines: Iterable[str],
    customer_id: int | None,
    freezes: Iterable[Freeze],
) -> list[Freeze]:
    """The freeze windows the planned window falls in (any overlap counts)
    and that apply to the change's customer or machines."""
    if change_window is None:
        return []
    if not isinstance(change_window, Window):
        change_window = Window(*change_window)
    machines = list(machines)
    return [
        freeze
        for freeze in freezes
        if windows_overlap(change_window, Window(freeze.starts_at, freeze.ends_at))
        and freeze_applies(freeze, machines, customer_id)
    ]


# --- iCalendar -----------------------------------------------------------


def ical_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11); other control characters are
    not allowed in a content line and are dropped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(ch for ch in text if ch == "\t" or (ord(ch) >= 32 and ord(ch) != 127))


def ical_fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 sequence;
    each continuation starts with one space, which counts as an octet."""
    parts: list[str] = []
    current, size = "", 0
    for ch in line:
        octets = len(ch.encode("utf-8"))
        if size + octets > MAX_LINE_OCTETS:
            parts.append(current)
            current, size = " ", 1
        current += ch
        size += octets
    parts.append(current)
    return CRLF.join(parts)


def ical_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("iCalendar times need an aware datetime")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# Approved and running changes are fixed; anything still waiting for a
# decision is shown as tentative to calendar clients.
_CONFIRMED = {"approved", "in_progress"}


def _change_event(change: CalendarChange, stamp: str) -> list[str]:
    window = window_of(change)
    assert window is not None
    machines = ", ".join(sorted(_machines(change.affected_machines))) or "-"
    description = "\n".join(
        [
            f"Classification: {change.classification}",
            f"Status: {change.status}",
            f"Machines: {machines}",
        ]
    )
    return [
        "BEGIN:VEVENT",
        f"UID:{change.number}@{UID_DOMAIN}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{ical_time(window.start)}",
        f"DTEND:{ical_time(window.end)}",
        f"SUMMARY:{ical_escape(f'{change.number} {change.subject}')}",
        f"DESCRIPTION:{ical_escape(description)}",
        "STATUS:" + ("CONFIRMED" if change.status in _CONFIRMED else "TENTATIVE"),
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def _freeze_scope(freeze: Freeze) -> str:
    if freeze.applies_to_all:
        return "All machines"
    lines = []
    if freeze.customer_numbers:
        lines.append("Customers: " + ", ".join(freeze.customer_numbers))
    if freeze.machines:
        lines.append("Machines: " + ", ".join(sorted(_machines(freeze.machines))))
    return "\n".join(lines) or "-"


def _freeze_event(freeze: Freeze, stamp: str) -> list[str]:
    # Without an id (not stored) the start time keeps the UID stable enough.
    key = freeze.id if freeze.id is not None else ical_time(freeze.starts_at)
    return [
        "BEGIN:VEVENT",
        f"UID:freeze-{key}@{UID_DOMAIN}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{ical_time(freeze.starts_at)}",
        f"DTEND:{ical_time(freeze.ends_at)}",
        f"SUMMARY:{ical_escape(f'Freeze: {freeze.reason}')}",
        f"DESCRIPTION:{ical_escape(_freeze_scope(freeze))}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def to_ical(
    changes: Iterable[CalendarChange],
    freezes: Iterable[Freeze],
    now: datetime,
    name: str = "Forward schedule of change",
) -> str:
    """The schedule as an RFC 5545 calendar: one event per planned change
    (changes without a window are left out) and one per freeze window."""
    stamp = ical_time(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_escape(name)}",
    ]
    for change in changes:
        if window_of(change) is not None:
            lines += _change_event(change, stamp)
    for freeze in freezes:
        lines += _freeze_event(freeze, stamp)
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + CRLF for line in lines)
