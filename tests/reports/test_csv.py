"""CSV downloads: the KPIs, a breakdown table and the rows behind them,
streamed, for a period and filters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports.services import target_set
from tests.base import Personas
from tests.reports import dataset
from tests.reports.dataset import ams
from tickets.services import ticket_create

NOVEMBER = "kind=month&day=2026-11-01"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(dataset.NOW, tick=False):
        yield


@pytest.fixture
def built(personas: Personas) -> dataset.Dataset:
    return dataset.build(personas)


@pytest.fixture
def boss(db: None) -> Client:
    client = Client()
    client.force_login(dataset.make_reporter(may_set_targets=True))
    return client


def read(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.getvalue().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_kpis_of_a_month_with_their_targets(boss: Client, built: object) -> None:
    target_set(
        kpi="incidents.response_sla_pct",
        target=Decimal(90),
        higher_is_better=None,
        actor=dataset.make_reporter("itm2", may_set_targets=True),
        now=dataset.NOW,
    )
    response = boss.get(f"/reports/kpis.csv?{NOVEMBER}")
    assert (
        response["Content-Disposition"] == 'attachment; filename="kpis-2026-11-01_2026-11-30.csv"'
    )
    rows = {row["kpi"]: row for row in read(response)}
    assert {code: rows[code]["value"] for code in rows} == {
        code: str(value) for code, value in dataset.EXPECTED.items()
    }
    assert rows["incidents.response_sla_pct"] | {"label": ""} == {
        "process": "incidents",
        "perspective": "customer",
        "kpi": "incidents.response_sla_pct",
        "label": "",
        "unit": "percent",
        "value": "80.0",
        "target": "90.00",
        "higher_is_better": "true",
        "on_target": "false",
    }
    assert rows["incidents.count"]["target"] == "" and rows["incidents.count"]["on_target"] == ""


def test_a_breakdown_table_with_labelled_keys(boss: Client, built: object) -> None:
    rows = read(boss.get(f"/reports/tables/incidents.by_type.csv?{NOVEMBER}"))
    assert rows[0] == {"Type": "incident", "Tickets (count)": "6"}
    assert [row["Type"] for row in rows] == [
        "incident",
        "change request",
        "information request",
        "service request",
    ]
    rows = read(boss.get(f"/reports/tables/changes.per_month.csv?{NOVEMBER}"))
    assert rows == [
        {
            "Month": "November 2026",
            "Minor requested (count)": "1",
            "Major requested (count)": "3",
            "Decided (count)": "3",
            "Approved (percent)": "66.7",
            "Rejected (percent)": "33.3",
        }
    ]
    assert boss.get(f"/reports/tables/nothing.csv?{NOVEMBER}").status_code == 404


def test_the_tickets_behind_the_figures(boss: Client, built: dataset.Dataset) -> None:
    response = boss.get(f"/reports/tickets.csv?{NOVEMBER}")
    assert response["Content-Disposition"] == (
        'attachment; filename="tickets-2026-11-01_2026-11-30.csv"'
    )
    rows = read(response)
    # G was created in October but resolved in November.
    assert [row["subject"][0] for row in rows] == ["G", "A", "B", "C", "D", "I", "E", "F"]
    a = rows[1]
    assert a["number"] == built.tickets["A"].number
    assert a["created_at"] == "2026-11-02T09:00:00+01:00"
    assert a["response_business_seconds"] == "1800"
    assert (a["assignee"], a["group"], a["cause_code"]) == ("jr", "support", "configuration")
    assert (a["response_breached"], a["escalated"]) == ("false", "false")
    e = rows[6]
    assert (e["response_breached"], e["resolution_breached"]) == ("true", "true")


def test_a_filter_narrows_the_rows(boss: Client, personas: Personas, built: object) -> None:
    rows = read(boss.get(f"/reports/tickets.csv?{NOVEMBER}&customer=1000"))
    assert [row["subject"] for row in rows] == ["F: slow site"]
    rows = read(boss.get(f"/reports/backup-problems.csv?{NOVEMBER}&engineer={personas.jr.pk}"))
    assert [row["job"] for row in rows] == ["win01-files"]
    assert boss.get("/reports/tickets.csv?kind=custom&start=2026-11-05").status_code == 400


def test_the_changes_with_their_start_and_outcome(boss: Client, built: dataset.Dataset) -> None:
    rows = {row["subject"][:2]: row for row in read(boss.get(f"/reports/changes.csv?{NOVEMBER}"))}
    assert sorted(rows) == ["C1", "C2", "C3", "C4"]
    c2 = rows["C2"]
    assert (c2["classification"], c2["decision"], c2["outcome"]) == (
        "major",
        "approved",
        "implemented",
    )
    assert c2["started_at"] == "2026-11-05T20:00:00+01:00"
    assert c2["finished_at"] == "2026-11-05T23:00:00+01:00"
    assert (c2["estimated_cost"], c2["actual_cost"], c2["incidents_caused"]) == (
        "1000.00",
        "1200.00",
        "1",
    )
    assert rows["C3"]["outcome"] == "" and rows["C3"]["decision"] == "rejected"
    assert (rows["C4"]["emergency"], rows["C4"]["outcome"]) == ("true", "failed")


def test_the_backup_problems(boss: Client, built: dataset.Dataset) -> None:
    rows = read(boss.get(f"/reports/backup-problems.csv?{NOVEMBER}"))
    assert [(r["job"], r["severity"], r["status"]) for r in rows] == [
        ("web01-mysql", "major", "solved"),
        ("win01-files", "minor", "open"),
    ]
    assert rows[0]["solved_at"] == "2026-11-26T10:00:00+01:00"


def test_a_cell_a_spreadsheet_would_run_is_defused(boss: Client, personas: Personas) -> None:
    ticket_create(
        customer=personas.other_customer,
        subject='=HYPERLINK("http://evil.example","click")',
        message="Hi.",
        type="incident",
        channel="portal",
        actor=personas.other_customer_user,
        now=ams(11, 3, 9),
    )
    rows = read(boss.get(f"/reports/tickets.csv?{NOVEMBER}"))
    assert rows[0]["subject"] == '\'=HYPERLINK("http://evil.example","click")'


def test_rows_are_read_while_streaming_not_before(boss: Client, built: object) -> None:
    with CaptureQueriesContext(connection) as before:
        response = boss.get(f"/reports/tickets.csv?{NOVEMBER}")
    assert not any("tickets_ticket" in q["sql"] for q in before.captured_queries)
    with CaptureQueriesContext(connection) as during:
        assert len(read(response)) == 8
    assert any("tickets_ticket" in q["sql"] for q in during.captured_queries)
