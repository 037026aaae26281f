"""The parts of `make bench` that need no load run: the floor view, the target
evaluation, the report and the `bench:` line, the peer's database names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from bench import report
from bench.floor import floor_rows
from bench.peer import size_label
from tests.base import Personas
from tests.tickets.test_ticket_services import WED_10, new_ticket
from tickets.selectors import queue_tickets
from tickets.services import ticket_classify

RESULTS: dict[str, Any] = {
    "when": "2026-11-25 12:00 UTC",
    "database": {"name": "servicedesk_bench", "tickets": 100000},
    "endpoints": {
        "queue": {
            "label": "Triage queue, default filter",
            "path": "/queue/",
            "queries": 7,
            "c1": {"p50_ms": 20.0, "p95_ms": 45.0},
            "c4": {"p50_ms": 40.0, "p95_ms": 90.0, "rps": 80.0},
        },
        "api_list": {
            "label": "API ticket list, first page",
            "path": "/api/v1/tickets/",
            "queries": 2,
            "c1": {"p50_ms": 12.0, "p95_ms": 24.0},
            "c4": {"p50_ms": 20.0, "p95_ms": 30.0, "rps": 600.0},
        },
        "api_create": {
            "label": "API ticket creation",
            "path": "/api/v1/tickets/",
            "method": "POST",
            "queries": 17,
            "c1": {"p50_ms": 30.0, "p95_ms": 40.0},
            "c4": {"p50_ms": 50.0, "p95_ms": 60.0, "rps": 150.0},
        },
        "dashboard": {
            "label": "KPI dashboard",
            "path": "/reports/",
            "queries": 35,
            "c1": {"p50_ms": 120.0, "p95_ms": 130.5},
            "c4": {"p50_ms": 200.0, "p95_ms": 260.0, "rps": 18.0},
        },
        "floor": {
            "label": "Floor",
            "path": "/bench/floor/",
            "queries": 1,
            "c1": {"p50_ms": 0.8, "p95_ms": 1.46},
            "c4": {"p50_ms": 1.5, "p95_ms": 3.0, "rps": 1500.0},
        },
    },
    "sweeps": {
        "idle": {"ms": 1.24, "queries": 4, "runs": 21, "now": "2026-11-25T11:30:00+00:00"},
        "bulk": {
            "seconds": 12.5,
            "announcements": 5000,
            "breaches": 2500,
            "warnings": 2500,
            "tickets": 2600,
            "runs": 3,
            "queries": 25000,
            "now": "2027-01-01T00:00:00+00:00",
        },
    },
}


def test_it_judges_a_target_met_or_missed_by_how_much() -> None:
    assert report.verdict(30, 30) == "met"
    assert report.verdict(45, 30) == "missed by 50%"
    assert report.verdict(300, 300, higher_is_better=True) == "met"
    assert report.verdict(150, 300, higher_is_better=True) == "missed by 50%"
    assert report.verdict(None, 30) == "not measured"


def test_it_evaluates_the_targets_from_the_results() -> None:
    verdicts = {row["target"]: row["verdict"] for row in report.evaluate(RESULTS)}
    assert verdicts["Triage queue, default filter: p95"] == "missed by 50%"
    assert verdicts["API ticket list, first page: p95"] == "met"
    assert verdicts["API list throughput, share of the floor's"] == "missed by 20%"  # 0.4 of 0.5
    assert verdicts["Ticket creation (API)"] == "missed by 50%"
    assert verdicts["SLA sweep, nothing due"] == "met"
    # 5,000 announcements in 12.5 s: 25 s for 10,000.
    assert verdicts["SLA sweep, 10,000 due"] == "missed by 150%"
    assert verdicts["KPI dashboard: p95"] == "met"
    assert verdicts["search: p95"] == "not measured"


def test_it_writes_the_bench_line_from_the_results() -> None:
    assert report.bench_line(RESULTS) == (
        "bench: queue_p95_ms=45 api_list_p95_ms=24 create_per_s=150 sweep_idle_ms=1.24 "
        "sweep_10k_s=25 dashboard_ms=130 floor_p95_ms=1.46"
    )


def test_the_report_has_the_figures_and_targets_and_ends_with_the_bench_line() -> None:
    text = report.markdown(RESULTS)
    assert "| Triage queue, default filter<br>`GET /queue/` | 7 | 40.0 | 90.0 | 80.0 |" in text
    assert "| Ticket creation (API) | ≥ 300 per s | 150 per s | missed by 50% |" in text
    assert "≤ 30.0 ms: missed by 50%" in text  # the queue's own row says it too
    assert "scaled to 10,000 announcements" in text
    assert text.rstrip("\n").splitlines()[-1] == report.bench_line(RESULTS)


def test_the_side_by_side_gives_ratios_in_our_favour_above_one() -> None:
    peer = {
        "tickets": 100000,
        "endpoints": {
            "dt_default": {
                "path": "/datatables_ticket_list/x",
                "queries": 78,
                "c1": {"p50_ms": 400.0},
                "c4": {"rps": 5.0},
            },
            "ref_open25_raw": {"path": "/ref/open25/", "c1": {"p50_ms": 0.8}, "c4": {"rps": 3000}},
        },
    }
    rows = {row["what"]: row for row in report.peer_rows(RESULTS, peer)}
    assert rows["staff ticket list, first 25-50 rows"]["faster"] == 20.0  # 400 ms / 20 ms
    assert rows["staff ticket list, first 25-50 rows"]["throughput"] == 16.0  # 80 / 5 req/s
    assert rows["floor: 25 rows by one raw query"]["throughput"] == 0.5
    assert set(rows) == {"staff ticket list, first 25-50 rows", "floor: 25 rows by one raw query"}


def test_the_peer_databases_are_named_by_size() -> None:
    assert [size_label(n) for n in (10_000, 100_000, 1_000_000, 12_345)] == [
        "hd10k",
        "hd100k",
        "hd1m",
        "hd12345",
    ]


def test_the_floor_route_exists_only_under_the_bench_urls() -> None:
    with pytest.raises(NoReverseMatch):
        reverse("bench-floor")
    with override_settings(ROOT_URLCONF="bench.urls"):
        assert reverse("bench-floor") == "/bench/floor/"
        assert reverse("queue") == "/queue/"  # the product's routes stay


def test_the_floor_serves_the_queues_first_25_rows_with_one_query(personas: Personas) -> None:
    for index in range(30):
        ticket = new_ticket(
            personas,
            now=WED_10 + timedelta(minutes=index),
            customer=personas.customer if index % 3 else personas.other_customer,
            impact=("low", "medium", "high")[index % 3],
            urgency=("high", "medium", "low")[index % 4 % 3],
        )
        if index % 4:  # the rest stays unclassified and comes first
            ticket_classify(
                ticket=ticket,
                impact=ticket.impact,
                urgency=ticket.urgency,
                actor=personas.jr,
                now=WED_10 + timedelta(hours=1),
            )
    expected = [t.number for t in queue_tickets(user=personas.jr, filters={})[:25]]
    assert [row["number"] for row in floor_rows()] == expected
    with override_settings(ROOT_URLCONF="bench.urls"), CaptureQueriesContext(connection) as sql:
        response = Client().get("/bench/floor/")
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["rows"]] == expected
    assert len(sql) == 1
