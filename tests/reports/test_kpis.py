"""Every KPI against the hand-computed data set of tests/reports/dataset.py:
the period each one counts in, the filters, the breakdown tables, and the
fixed handful of aggregate queries per process."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import kpis, periods
from reports.selectors import (
    Filters,
    backup_kpis,
    change_kpis,
    delivery_kpis,
    incident_kpis,
    process_values,
    report_values,
    stock_kpis,
    update_kpis,
)
from tests.base import Personas
from tests.reports import dataset
from tests.reports.dataset import NOVEMBER, NOW, ams
from tickets.models import Department


@pytest.fixture
def built(personas: Personas) -> dataset.Dataset:
    return dataset.build(personas)


def test_every_kpi_of_november_is_the_hand_computed_value(built: dataset.Dataset) -> None:
    values = report_values(period=NOVEMBER, now=NOW)
    assert values["kpis"] == dataset.EXPECTED
    assert set(values["kpis"]) == {kpi.code for kpi in kpis.KPIS}
    assert set(values["tables"]) == {table.code for table in kpis.TABLES}


def test_the_incident_tables(built: dataset.Dataset) -> None:
    tables = incident_kpis(period=NOVEMBER)["tables"]
    rows = {code: table["rows"] for code, table in tables.items()}
    assert rows["incidents.by_type"] == [
        ["incident", 6],
        ["change_request", 0],
        ["information_request", 1],
        ["service_request", 0],
    ]
    assert dict(rows["incidents.by_channel"]) == {
        "portal": 5,
        "email": 1,
        "phone": 1,
        "monitoring": 0,
        "staff": 0,
        "api": 0,
    }
    assert dict(rows["incidents.by_category"])["other"] == 5
    # Resolved in November, G (created in October) included.
    assert rows["incidents.by_cause"] == [["Configuration error", 4], ["Hardware failure", 2]]
    # Per engineer: created, resolved, business hours, resolution within SLA.
    assert rows["incidents.by_engineer"] == [
        ["Jr (jr)", 2, 2, 5.5, 100.0],
        ["", 4, 4, 23.5, 75.0],  # unassigned: B, C, E, F created; G, B, C, E resolved
    ]
    assert rows["incidents.by_group"] == [["Support", 2, 2, 5.5, 100.0], ["", 4, 4, 23.5, 75.0]]


def test_the_change_backup_update_delivery_and_stock_tables(built: dataset.Dataset) -> None:
    tables = report_values(period=NOVEMBER, now=NOW)["tables"]
    rows = {code: table["rows"] for code, table in tables.items()}
    assert rows["changes.per_month"] == [["2026-11", 1, 3, 3, 66.7, 33.3]]
    assert rows["changes.plan"] == [
        ["evaluated", 3, 100.0],
        ["time", 2, 66.7],  # C2 finished an hour late
        ["cost", 2, 66.7],  # C2 cost 1200 of 1000
        ["hours", 2, 66.7],
        ["all", 2, 66.7],
    ]
    assert rows["backups.by_severity"] == [["major", 1, 1, 0], ["minor", 1, 0, 1]]
    assert rows["updates.by_software"] == [["nginx 1.27.2", 2], ["openssl 3.4.0", 1]]
    assert rows["deliveries.per_month"] == [["2026-11", 2, 15.0]]
    assert rows["stock.by_supplier"] == [
        ["Dell", 1, 100.0, 1, 100.0, 7.0],
        ["Ingram", 2, 0.0, 1, 0.0, 14.0],
    ]
    assert rows["stock.by_location"] == [
        ["Amsterdam datacenter AMS1", 5000.0, 0.0],
        ["Maassluis office", 10900.0, 100.0],
    ]


def test_october_counts_what_happened_in_october(built: dataset.Dataset) -> None:
    october = periods.month_period(date(2026, 10, 1))
    incidents = incident_kpis(period=october)["kpis"]
    assert incidents["incidents.count"] == 1  # G
    assert incidents["incidents.response_hours"] == pytest.approx(20 / 60, abs=0.01)
    assert incidents["incidents.resolution_hours"] is None  # G was resolved in November
    assert incidents["incidents.response_sla_pct"] == 100.0
    assert update_kpis(period=october)["kpis"] == {
        "updates.installed": 1,
        "updates.versions": 1,
        "updates.failed": 0,
    }


def test_an_empty_period_measures_nothing_rather_than_zero_percent(
    built: dataset.Dataset,
) -> None:
    empty = periods.month_period(date(2025, 1, 1))
    values = report_values(period=empty, now=NOW)["kpis"]
    assert values["incidents.count"] == 0
    assert values["incidents.response_sla_pct"] is None
    assert values["changes.approved_pct"] is None
    assert values["changes.failures_per_change"] is None
    assert values["backups.solved_pct"] is None
    assert values["deliveries.lead_days"] is None
    assert values["stock.reliability_pct"] is None
    assert values["changes.estimated_cost"] == 0.0


def test_a_quarter_sums_its_months(built: dataset.Dataset) -> None:
    q4 = periods.period_for(periods.QUARTER, date(2026, 11, 1))
    values = incident_kpis(period=q4)
    assert values["kpis"]["incidents.count"] == 7  # G in October too
    months = change_kpis(period=q4)["tables"]["changes.per_month"]["rows"]
    assert [row[0] for row in months] == ["2026-10", "2026-11", "2026-12"]
    assert months[0][1:4] == [0, 0, 0]


def test_a_backup_problem_solved_after_the_period_counts_as_not_solved_in_it(
    built: dataset.Dataset,
) -> None:
    # The mysql problem was registered on 25 and solved on 26 November.
    up_to_25 = periods.custom(date(2026, 11, 1), date(2026, 11, 25))
    values = backup_kpis(period=up_to_25)["kpis"]
    assert (values["backups.problems"], values["backups.solved_pct"]) == (2, 0.0)


def test_the_filters_narrow_each_process_to_a_customer_engineer_or_group(
    personas: Personas, built: dataset.Dataset
) -> None:
    jr = Filters(engineer=personas.jr.pk)
    incidents = incident_kpis(period=NOVEMBER, filters=jr)["kpis"]
    assert incidents["incidents.count"] == 2  # A and D
    assert incidents["incidents.escalations"] == 1
    assert incidents["incidents.extensions"] == 0  # C was nobody's
    support = Filters(group=Department.objects.get(code="support").pk)
    assert incident_kpis(period=NOVEMBER, filters=support)["kpis"]["incidents.count"] == 2
    first = Filters(customer=personas.customer.pk)
    assert incident_kpis(period=NOVEMBER, filters=first)["kpis"]["incidents.count"] == 1
    assert change_kpis(period=NOVEMBER, filters=first)["kpis"]["changes.major"] == 0
    assert change_kpis(period=NOVEMBER, filters=jr)["kpis"]["changes.major"] == 3  # requester
    backups = backup_kpis(period=NOVEMBER, filters=jr)["kpis"]
    # jr had the Windows check, its (unsolved) problem and the failed restore test.
    assert backups["backups.checks_done"] == 1
    assert backups["backups.check_lead_hours"] == 2.0
    assert backups["backups.problems"] == 1 and backups["backups.solved_pct"] == 0.0
    assert backups["backups.missing_runs"] == 1
    assert (backups["backups.restore_tests"], backups["backups.restore_failed"]) == (1, 1)
    # The Unix check held runs of customer 1000 only; the Windows one of 2000.
    first_backups = backup_kpis(period=NOVEMBER, filters=first)["kpis"]
    assert (first_backups["backups.checks_done"], first_backups["backups.problems"]) == (1, 1)
    assert update_kpis(period=NOVEMBER, filters=first)["kpis"]["updates.installed"] == 0
    assert update_kpis(period=NOVEMBER, filters=jr)["kpis"]["updates.failed"] == 0
    assert delivery_kpis(period=NOVEMBER, filters=first)["kpis"]["deliveries.errors"] == 0


def test_stock_is_valued_at_the_end_of_the_period_from_the_ledger(
    built: dataset.Dataset,
) -> None:
    # Mid-November: one server in the office (received 9 Nov), disks not yet.
    mid = periods.custom(date(2026, 11, 1), date(2026, 11, 10))
    values = stock_kpis(period=mid, now=NOW)
    assert values["kpis"]["stock.value"] == 10000.0 + 100.0  # 2 servers, 50 cables
    assert values["kpis"]["stock.below_reorder"] == 1  # no disks at all yet
    # Today: the December issue counts, the order due today is not late yet.
    today = stock_kpis(period=periods.month_period(date(2026, 12, 1)), now=ams(12, 5, 12))
    assert today["kpis"]["stock.value"] == 15900.0 - 300.0
    assert today["kpis"]["stock.reliability_pct"] is None  # PO4 is due on 5 Dec itself


@pytest.mark.parametrize(
    ("process", "queries"),
    [
        # incidents: the scan, causes, people (+ the names of engineers and groups seen),
        # extensions, escalations
        (kpis.INCIDENTS, 7),
        (kpis.CHANGES, 5),
        (kpis.BACKUPS, 4),
        (kpis.UPDATES, 3),
        (kpis.DELIVERIES, 3),
        (kpis.STOCK, 4),
    ],
)
def test_each_process_is_a_few_aggregate_queries(
    personas: Personas, built: dataset.Dataset, process: str, queries: int
) -> None:
    with CaptureQueriesContext(connection) as few:
        process_values(process, period=NOVEMBER, now=NOW)
    dataset.build_incidents(personas)  # as many tickets again
    dataset.build_changes(personas, caused=built.tickets["E"])
    with CaptureQueriesContext(connection) as more:
        process_values(process, period=NOVEMBER, now=NOW)
    assert len(few.captured_queries) == len(more.captured_queries) == queries


def test_the_next_month_is_just_as_cheap_when_empty(built: dataset.Dataset) -> None:
    december = periods.month_period(date(2026, 12, 1))
    with CaptureQueriesContext(connection) as captured:
        report_values(period=december, now=NOW + timedelta(days=3))
    # No tickets in the month: no engineer or group names to look up.
    assert len(captured.captured_queries) == 5 + 5 + 4 + 3 + 3 + 4
