"""The forward schedule's rules (changes/schedule.py, pure) and the freeze
windows a stored change falls in (changes/selectors.freeze_windows_for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext

from changes import schedule
from changes.models import Change, FreezeWindow
from changes.schedule import Freeze, freeze_conflicts, overlaps, to_ical
from changes.schedule_views import period_from
from changes.selectors import freeze_windows_for
from changes.services import change_submit
from tests.base import Personas

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
T10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class Planned:
    number: str
    planned_start: datetime | None
    planned_end: datetime | None
    affected_machines: list[str] = field(default_factory=list)
    subject: str = "Upgrade PHP"
    classification: str = "minor"
    status: str = "approved"


def planned(number: str, start: int, end: int, *machines: str) -> Planned:
    """A change from T10 + start hours to T10 + end hours on these machines."""
    return Planned(number, T10 + start * HOUR, T10 + end * HOUR, list(machines))


# --- overlaps -------------------------------------------------------------


def test_it_warns_when_two_changes_touch_one_machine_at_the_same_time() -> None:
    a = planned("C-000001", 0, 2, "web01", "db01")
    b = planned("C-000002", 1, 3, "WEB01", "web02")
    assert overlaps([b, a]) == [(a, b, ("web01",))]


def test_it_does_not_warn_for_adjacent_windows_or_other_machines() -> None:
    a = planned("C-000001", 0, 2, "web01")
    adjacent = planned("C-000002", 2, 4, "web01")
    elsewhere = planned("C-000003", 1, 3, "web02")
    unplanned = Planned("C-000004", None, None, ["web01"])
    no_machines = planned("C-000005", 0, 4)
    assert overlaps([a, adjacent, elsewhere, unplanned, no_machines]) == []


def test_it_finds_every_pair_when_three_changes_clash() -> None:
    long = planned("C-000001", 0, 10, "web01")
    early = planned("C-000002", 1, 2, "web01")
    late = planned("C-000003", 8, 12, "web01")
    pairs = [(x.number, y.number) for x, y, _ in overlaps([late, early, long])]
    assert pairs == [("C-000001", "C-000002"), ("C-000001", "C-000003")]


# --- freeze windows -------------------------------------------------------

YEAR_END = Freeze(starts_at=T10 - 24 * HOUR, ends_at=T10 + 24 * HOUR, reason="Year end")


@pytest.mark.parametrize(
    ("freeze", "applies"),
    [
        (YEAR_END, True),
        (
            Freeze(T10, T10 + HOUR, "Customer", applies_to_all=False, customer_ids=frozenset({7})),
            True,
        ),
        (Freeze(T10, T10 + HOUR, "Host", applies_to_all=False, machines=("WEB01",)), True),
        (
            Freeze(T10, T10 + HOUR, "Other", applies_to_all=False, customer_ids=frozenset({8})),
            False,
        ),
        (Freeze(T10, T10 + HOUR, "Other host", applies_to_all=False, machines=("db01",)), False),
        (Freeze(T10, T10 + HOUR, "Nothing", applies_to_all=False), False),
        (Freeze(T10 + 2 * HOUR, T10 + 3 * HOUR, "After"), False),
        (Freeze(T10 - 3 * HOUR, T10, "Ends at the start"), False),
    ],
    ids=lambda value: value.reason if isinstance(value, Freeze) else str(value),
)
def test_it_knows_which_freeze_windows_apply(freeze: Freeze, applies: bool) -> None:
    window = (T10, T10 + 2 * HOUR)
    assert freeze_conflicts(window, ["web01"], 7, [freeze]) == ([freeze] if applies else [])


def test_a_change_without_a_window_or_customer_is_only_frozen_by_time_and_machine() -> None:
    customer_only = Freeze(T10, T10 + HOUR, "C", applies_to_all=False, customer_ids=frozenset({7}))
    assert freeze_conflicts(None, ["web01"], 7, [YEAR_END]) == []
    assert freeze_conflicts((T10, T10 + HOUR), ["web01"], None, [customer_only]) == []


# --- iCalendar ------------------------------------------------------------


def parse_ical(text: str) -> list[dict[str, list[str]]]:
    """A strict small reader: CRLF only, every physical line at most 75
    octets, BEGIN/END balanced; returns each component's properties."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical), physical
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    stack: list[str] = []
    components: list[dict[str, list[str]]] = []
    current: list[dict[str, list[str]]] = []
    for line in logical:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
            current.append({"component": [value]})
        elif name == "END":
            assert stack.pop() == value
            components.append(current.pop())
        else:
            assert stack, f"{line!r} outside a component"
            current[-1].setdefault(name, []).append(value)
    assert stack == []
    return components


def events(components: list[dict[str, list[str]]]) -> list[dict[str, list[str]]]:
    return [c for c in components if c["component"] == ["VEVENT"]]


def test_the_calendar_has_one_event_per_change_and_freeze_in_utc() -> None:
    local = datetime(2026, 12, 1, 22, 0, tzinfo=AMS)
    change = Planned("C-000045", local, local + 2 * HOUR, ["web01", "db01"], "Upgrade PHP")
    tentative = Planned("C-000046", T10, T10 + HOUR, status="awaiting_cab")
    unplanned = Planned("C-000047", None, None)
    text = to_ical([change, tentative, unplanned], [YEAR_END], NOW)
    components = parse_ical(text)
    calendar = components[-1]
    assert calendar["component"] == ["VCALENDAR"]
    assert calendar["VERSION"] == ["2.0"] and calendar["CALSCALE"] == ["GREGORIAN"]
    assert calendar["PRODID"][0].startswith("-//Servicedesk//")
    first, second, freeze = events(components)
    assert first["UID"] == ["C-000045@servicedesk"]
    assert first["DTSTAMP"] == ["20261125T090000Z"]
    assert (first["DTSTART"], first["DTEND"]) == (["20261201T210000Z"], ["20261201T230000Z"])
    assert first["SUMMARY"] == ["C-000045 Upgrade PHP"]
    assert first["DESCRIPTION"] == [
        "Classification: minor\\nStatus: approved\\nMachines: db01\\, web01"
    ]
    assert first["STATUS"] == ["CONFIRMED"] and second["STATUS"] == ["TENTATIVE"]
    assert freeze["SUMMARY"] == ["Freeze: Year end"] and freeze["TRANSP"] == ["OPAQUE"]
    assert freeze["DTSTART"] == ["20261130T100000Z"]


def test_text_is_escaped_and_long_lines_are_folded_on_character_boundaries() -> None:
    subject = 'Migrate "shop", mail; backups\\old\nthen ' + "café ☕ " * 20
    change = Planned("C-000045", T10, T10 + HOUR, ["web01"], subject)
    components = parse_ical(to_ical([change], [], NOW))
    (summary,) = events(components)[0]["SUMMARY"]
    assert summary.startswith('C-000045 Migrate "shop"\\, mail\\; backups\\\\old\\nthen café')
    assert summary.count("☕") == 20  # no multi-byte character was cut in two


def test_escaping_and_folding_rules() -> None:
    assert schedule.ical_escape("a\\b,c;d\r\ne\rf\x07") == "a\\\\b\\,c\\;d\\ne\\nf"
    folded = schedule.ical_fold("X" * 200)
    assert [len(line) for line in folded.split("\r\n")] == [75, 75, 52]
    with pytest.raises(ValueError):
        schedule.ical_time(datetime(2026, 12, 1, 10, 0))


# --- freeze_windows_for ---------------------------------------------------


def freeze(reason: str, start: datetime, end: datetime, **kwargs) -> FreezeWindow:
    customers = kwargs.pop("customers", [])
    window = FreezeWindow.objects.create(reason=reason, starts_at=start, ends_at=end, **kwargs)
    window.customers.set(customers)
    return window


def change_in(personas: Personas, start: datetime | None, hours: int = 2) -> Change:
    return change_submit(
        subject="Upgrade PHP",
        message="PHP 8.1 is end of life",
        impact="medium",
        urgency="low",
        answers={
            "multiple_users": False,
            "dependencies": True,
            "unsupported": False,
            "investment": False,
        },
        justifications={"dependencies": "The shop runs on it"},
        actor=personas.jr,
        now=NOW,
        customer=personas.customer,
        planned_start=start,
        planned_end=start + hours * HOUR if start else None,
        affected_machines=["web01"],
    )


def test_it_finds_the_stored_freeze_windows_a_change_falls_in(personas: Personas) -> None:
    change = change_in(personas, T10)
    everything = freeze("Year end", T10 - HOUR, T10 + HOUR)
    ours = freeze("Customer move", T10, T10 + 5 * HOUR, applies_to_all=False)
    ours.customers.set([personas.customer])
    host = freeze("web01 migration", T10 + HOUR, T10 + 3 * HOUR, applies_to_all=False)
    host.machines = ["WEB01"]
    host.save()
    freeze("Other customer", T10, T10 + HOUR, applies_to_all=False, customers=[])
    freeze("Other host", T10, T10 + HOUR, applies_to_all=False, machines=["db01"])
    freeze("Later", T10 + 2 * HOUR, T10 + 4 * HOUR)
    freeze("Earlier", T10 - 4 * HOUR, T10)
    other = freeze("Other customer's", T10, T10 + HOUR, applies_to_all=False)
    other.customers.set([personas.other_customer])
    assert freeze_windows_for(change) == [everything, ours, host]


def test_a_change_without_a_window_is_in_no_freeze(personas: Personas) -> None:
    freeze("Year end", T10 - 48 * HOUR, T10 + 48 * HOUR)
    assert freeze_windows_for(change_in(personas, None)) == []


# --- the schedule page ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "kind", "first", "days"),
    [
        ({}, "week", date(2026, 11, 23), 7),
        ({"week": "2026-W49"}, "week", date(2026, 11, 30), 7),
        ({"week": "2026-W60"}, "week", date(2026, 11, 23), 7),
        ({"month": "2026-11"}, "month", date(2026, 10, 26), 42),
        ({"month": "2027-02"}, "month", date(2027, 2, 1), 28),
        ({"month": "2026-13"}, "week", date(2026, 11, 23), 7),
        ({"week": "nonsense"}, "week", date(2026, 11, 23), 7),
    ],
)
def test_the_period_comes_from_the_query(query, kind, first, days) -> None:
    period = period_from(QueryDict(urlencode(query)), date(2026, 11, 25))
    assert (period.kind, period.first, period.days) == (kind, first, days)


def test_the_period_links_to_its_neighbours() -> None:
    week = period_from(QueryDict("week=2026-W53"), date(2026, 11, 25))
    assert (week.previous, week.next, week.current) == ("2026-W52", "2027-W01", "2026-W48")
    month = period_from(QueryDict("month=2026-12"), date(2026, 11, 25))
    assert (month.previous, month.next, month.current) == ("2026-11", "2027-01", "2026-11")


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_week_shows_planned_changes_overlaps_and_freezes(personas: Personas) -> None:
    first = change_in(personas, T10)  # Tuesday 1 December, 11:00 in Amsterdam
    second = change_in(personas, T10 + HOUR)
    elsewhere = change_in(personas, T10 + HOUR)
    Change.objects.filter(pk=elsewhere.pk).update(affected_machines=["db01"])
    freeze("Black Friday", T10 - 2 * HOUR, T10 + 2 * HOUR)
    page = page_client(personas.cm).get("/changes/schedule/?week=2026-W49")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Week 49 of 2026" in html and "Overlapping changes" in html
    assert html.count('class="schedule-entry clash"') == 2
    assert f"{first.number}</a> Upgrade PHP · " in html and f"{second.number}<" in html
    assert "Freeze: Black Friday" in html and 'class="schedule-day frozen"' in html
    assert html.count("in a freeze") == 3
    assert "style=" not in html  # the Content-Security-Policy forbids inline styles


def test_the_month_view_and_the_empty_week(personas: Personas) -> None:
    change = change_in(personas, T10)
    client = page_client(personas.jr)
    month = client.get("/changes/schedule/?month=2026-12").content.decode()
    assert "December 2026" in month and f"{change.number}<" in month
    assert 'class="schedule-month"' in month
    week = client.get("/changes/schedule/?week=2026-W50").content.decode()
    assert f"{change.number}<" not in week and "No changes planned." in week


def test_the_page_costs_the_same_number_of_queries_however_full(personas: Personas) -> None:
    client = page_client(personas.jr)
    change_in(personas, T10)
    freeze("Year end", T10, T10 + HOUR)
    client.get("/changes/schedule/?week=2026-W49")
    with CaptureQueriesContext(connection) as one:
        client.get("/changes/schedule/?week=2026-W49")
    for hour in range(1, 10):
        change_in(personas, T10 + hour * HOUR)
        freeze("Year end", T10 + hour * HOUR, T10 + (hour + 1) * HOUR)
    with CaptureQueriesContext(connection) as many:
        client.get("/changes/schedule/?week=2026-W49")
    assert len(many) == len(one)


def test_only_staff_who_may_view_changes_see_the_schedule(personas: Personas) -> None:
    assert page_client(personas.customer_user).get("/changes/schedule/").status_code == 404
    assert page_client(personas.sales).get("/changes/schedule/").status_code == 403
    anonymous = Client().get("/changes/schedule/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
