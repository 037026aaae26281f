"""The dashboard: who may open it, what it shows for a period, targets red
and green, the scorecard grouping, filters, HTMX swaps, the targets page, and
a query count that does not grow with the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from events.models import Event
from inventory.models import ConfigurationItem, Delivery, MachineUpdate, PurchaseOrder
from reports import kpis
from reports.models import KpiTarget
from reports.services import snapshot_month, target_set
from reports.templatetags.reports_charts import TrendPoint, trend_chart
from tests.base import Personas, make_user
from tests.reports import dataset
from tests.reports.dataset import ams
from tickets.models import CauseCode
from tickets.services import ticket_create, ticket_message_add, ticket_transition

NOVEMBER = "/reports/?kind=month&day=2026-11-01"


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


def test_only_staff_with_the_report_permission_open_the_dashboard(
    client: Client, personas: Personas
) -> None:
    assert client.get("/reports/").status_code == 302  # to the login page
    client.force_login(personas.customer_user)
    assert client.get("/reports/").status_code == 404
    client.force_login(personas.jr)
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/kpis.csv").status_code == 403
    client.force_login(dataset.make_reporter())
    assert client.get("/reports/").status_code == 200


def test_the_navigation_offers_reports_to_who_may_open_them(boss: Client) -> None:
    page = boss.get("/reports/").content.decode()
    assert '<a href="/reports/" aria-current="page">Reports</a>' in page


def test_a_month_shows_every_process_with_its_figures(boss: Client, built: object) -> None:
    response = boss.get(NOVEMBER)
    page = response.content.decode()
    assert response.status_code == 200
    for panel in ("incidents", "changes", "backups", "updates", "deliveries", "stock"):
        assert f'id="panel-{panel}"' in page
    assert "November 2026" in page
    row = _row(page, "incidents-count")
    assert ">6<" in row
    assert "17.50 h" in _row(page, "incidents-resolution-hours")
    assert "83.3 %" in _row(page, "incidents-resolution-sla-pct")
    assert "€ 1,280.00" in _row(page, "changes-actual-cost")
    assert "Computed from the data as of" in page
    # Breakdown tables with their CSV links.
    assert "Tickets by type" in page and "information request" in page
    assert "/reports/tables/incidents.by_type.csv?" in page


def test_targets_colour_the_figures_green_or_red(boss: Client, built: object) -> None:
    itm = dataset.make_reporter("itm2", may_set_targets=True)
    now = dataset.NOW
    target_set(
        kpi="incidents.response_sla_pct",
        target=Decimal(75),
        higher_is_better=None,
        actor=itm,
        now=now,
    )
    target_set(
        kpi="incidents.breaches", target=Decimal(0), higher_is_better=None, actor=itm, now=now
    )
    page = boss.get(NOVEMBER).content.decode()
    met = _row(page, "incidents-response-sla-pct")
    assert 'class="kpi met"' in met and "on target" in met and "≥ 75.0 %" in met
    missed = _row(page, "incidents-breaches")
    assert 'class="kpi missed"' in missed and "off target" in missed and "≤ 0" in missed
    assert "trend-point met" in met and "trend-point missed" in missed
    # Without a target: neither colour.
    assert 'class="kpi"' in _row(page, "incidents-count")


def test_the_scorecard_groups_the_kpis_by_perspective(boss: Client, built: object) -> None:
    page = boss.get(NOVEMBER + "&view=scorecard").content.decode()
    for perspective in ("customer", "internal", "financial", "learning"):
        assert f'id="panel-{perspective}"' in page
    assert "Learning and growth" in page
    customer = page.split('id="panel-customer"')[1].split("</section>")[0]
    assert "Response within SLA" in customer and "Change management" not in customer
    financial = page.split('id="panel-financial"')[1].split("</section>")[0]
    assert "Stock value" in financial and "Change management" in financial


def test_a_filter_narrows_the_figures_and_says_where_it_does_not_apply(
    boss: Client, personas: Personas, built: object
) -> None:
    page = boss.get(NOVEMBER + f"&customer={personas.customer.number}").content.decode()
    assert ">1<" in _row(page, "incidents-count")  # only F
    stock = page.split('id="panel-stock"')[1].split("</section>")[0]
    assert "Not filtered by customer." in stock
    assert "clear the filters" in page
    assert "<svg" not in page  # no company-wide trend under a filter
    page = boss.get(NOVEMBER + f"&engineer={personas.jr.pk}").content.decode()
    assert ">2<" in _row(page, "incidents-count")  # A and D


def test_a_bad_filter_is_shown_and_the_default_period_used(boss: Client, built: object) -> None:
    page = boss.get("/reports/?customer=99999&kind=custom").content.decode()
    assert "There is no customer with this number." in page
    assert "December 2026" in page
    assert boss.get("/reports/kpis.csv?customer=99999").status_code == 400


def test_the_period_moves_back_and_forth(boss: Client, built: object) -> None:
    page = boss.get("/reports/?kind=week&day=2026-11-18").content.decode()
    assert "Week 47 of 2026" in page
    assert "kind=week&amp;day=2026-11-09" in page  # previous
    assert "kind=week&amp;day=2026-11-23" in page  # next
    page = boss.get("/reports/?kind=quarter&day=2026-11-18").content.decode()
    assert "Quarter 4 of 2026" in page
    assert 'rel="next"' not in page  # the next quarter has not begun
    page = boss.get("/reports/?kind=custom&start=2026-11-02&end=2026-11-08").content.decode()
    assert "start=2026-10-26&amp;end=2026-11-01" in page


def test_htmx_gets_only_the_report(boss: Client, built: object) -> None:
    response = boss.get(NOVEMBER, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.startswith('<div id="report"')
    assert "<html" not in page


def test_a_closed_month_with_a_snapshot_is_shown_from_it(
    boss: Client, personas: Personas, built: dataset.Dataset
) -> None:
    snapshot_month(month=dataset.NOVEMBER.first, now=dataset.NOW)
    # Registered afterwards, dated back into November.
    ticket_create(
        customer=personas.other_customer,
        subject="Late registration",
        message="Entered afterwards.",
        type="incident",
        channel="phone",
        actor=personas.jr,
        now=ams(11, 20, 9),
    )
    page = boss.get(NOVEMBER).content.decode()
    assert ">6<" in _row(page, "incidents-count")
    assert "kept in the monthly snapshot" in page
    # Live figures (any period that is not a kept month) do count it.
    page = boss.get("/reports/?kind=day&day=2026-11-20").content.decode()
    assert ">1<" in _row(page, "incidents-count")


def test_the_trend_reads_closed_months_from_snapshots_and_the_open_month_live(
    boss: Client, built: object
) -> None:
    snapshot_month(month=dataset.NOVEMBER.first, now=dataset.NOW)
    with time_machine.travel(dataset.NOW + timedelta(days=3), tick=False):
        boss.force_login(User.objects.get(username="boss"))  # the session expired meanwhile
        page = boss.get("/reports/").content.decode()
    row = _row(page, "incidents-count")
    assert "November 2026: 6" in row  # from the snapshot
    assert "December 2026: 0 (so far)" in row  # live
    assert "October 2026" not in row  # no snapshot kept: a gap


# --- Targets page -------------------------------------------------------------------


def test_targets_are_set_changed_and_removed_on_the_targets_page(boss: Client) -> None:
    page = boss.get("/reports/targets/").content.decode()
    assert "Save targets" in page
    response = boss.post(
        "/reports/targets/",
        {
            "incidents.response_sla_pct--target": "95",
            "incidents.breaches--target": "2",
            "incidents.breaches--direction": "lower",
        },
    )
    assert response.status_code == 302
    targets = {t.kpi: (t.target, t.higher_is_better) for t in KpiTarget.objects.all()}
    assert targets == {
        "incidents.response_sla_pct": (Decimal(95), True),  # the KPI's own direction
        "incidents.breaches": (Decimal(2), False),
    }
    assert Event.objects.filter(kind="report.target_set").count() == 2
    boss.post(
        "/reports/targets/",
        {
            "incidents.response_sla_pct--target": "90",
            "incidents.response_sla_pct--direction": "higher",
        },
    )
    assert list(KpiTarget.objects.values_list("kpi", "target")) == [
        ("incidents.response_sla_pct", Decimal(90))
    ]


def test_a_refused_target_saves_nothing_and_says_why(boss: Client) -> None:
    response = boss.post(
        "/reports/targets/",
        {"incidents.response_sla_pct--target": "120", "incidents.count--target": "10"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A percentage lies between 0 and 100." in page
    assert "Say whether a value above the target is good." in page  # a volume has no direction
    assert not KpiTarget.objects.exists()


def test_only_who_may_change_targets_saves_them(client: Client, db: None) -> None:
    client.force_login(dataset.make_reporter())
    page = client.get("/reports/targets/").content.decode()
    assert "Save targets" not in page and "disabled" in page
    response = client.post("/reports/targets/", {"incidents.breaches--target": "1"})
    assert response.status_code == 403
    assert not KpiTarget.objects.exists()


# --- Query counts -------------------------------------------------------------------


def _more_rows(p: Personas, count: int) -> None:
    """More of everything in November, so a loop over rows would show."""
    item = ConfigurationItem.objects.create(
        hostname="bulk", kind="physical", created_at=ams(1, 5, 9), updated_at=ams(1, 5, 9)
    )
    supplier = PurchaseOrder.objects.first()
    assert supplier is not None
    for n in range(count):
        at = ams(11, 2 + n % 20, 9)
        ticket = ticket_create(
            customer=p.other_customer,
            subject=f"Bulk {n}",
            message="More.",
            type="incident",
            channel="portal",
            actor=p.other_customer_user,
            now=at,
        )
        ticket_message_add(ticket=ticket, body="Looking.", public=True, actor=p.jr, now=at)
        ticket_transition(
            ticket=ticket,
            to="resolved",
            resolution="workaround",
            cause_code=CauseCode.objects.get(code="user"),
            note="Done.",
            actor=p.jr,
            now=at + timedelta(hours=1),
        )
        MachineUpdate.objects.create(
            item=item,
            software=f"tool{n}",
            new_version="1.0",
            installed_at=at,
            created_at=at,
            updated_at=at,
        )
        Delivery.objects.create(
            customer=p.customer,
            origin="order",
            requested_by=p.sales,
            server_kind="physical",
            os_name="Debian 12",
            contacts="-",
            wanted_on=at.date(),
            status="delivered",
            requested_at=at - timedelta(days=5),
            delivered_at=at,
        )
        PurchaseOrder.objects.create(
            supplier=supplier.supplier,
            destination=supplier.destination,
            expected_on=at.date(),
            ordered_by=p.sr,
            ordered_at=at - timedelta(days=3),
            status="received",
            received_at=at,
        )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        NOVEMBER,  # a closed month without a snapshot: live, trend from snapshots
        "/reports/",  # the open month: live, its trend point too
        "/reports/?kind=week&day=2026-11-18&view=scorecard",
        NOVEMBER + "&customer=1000&engineer=1&group=1",
    ],
)
def test_the_dashboard_costs_the_same_queries_however_many_rows(
    boss: Client, personas: Personas, built: object, url: str
) -> None:
    boss.get(url)  # warm the session and content-type caches
    few = _queries(boss, url)
    _more_rows(personas, 15)
    assert _queries(boss, url) == few
    assert few <= 40


def test_a_kept_month_costs_no_kpi_queries(boss: Client, built: object) -> None:
    snapshot_month(month=dataset.NOVEMBER.first, now=dataset.NOW)
    boss.get(NOVEMBER)
    # Session, user, 2 x permissions, the month's snapshot, the trend's
    # snapshots, the targets, and the engineer and group choices.
    assert _queries(boss, NOVEMBER) <= 9


def _row(page: str, kpi_slug: str) -> str:
    return page.split(f'id="kpi-{kpi_slug}"')[1].split("</tr>")[0]


def test_a_user_without_staff_status_never_sees_reports(client: Client, db: None) -> None:
    outsider = make_user("outsider")
    outsider.is_staff = False
    outsider.save()
    client.force_login(outsider)
    assert client.get("/reports/").status_code == 404


def test_the_page_has_no_inline_style_or_script(boss: Client, built: object) -> None:
    page = boss.get(NOVEMBER).content.decode()
    assert "style=" not in page and "<style" not in page
    assert page.count("<script") == 1  # htmx, from a file


def test_the_trend_chart_is_escaped_svg_coloured_by_classes() -> None:
    points = [
        TrendPoint(date(2026, 9, 1), 90.0, False),
        TrendPoint(date(2026, 10, 1), None, False),
        TrendPoint(date(2026, 11, 1), 70.0, False),
        TrendPoint(date(2026, 12, 1), 85.0, True),
    ]
    svg = str(trend_chart(points, kpis.PERCENT, "<b>SLA</b>", 80.0, True))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="trend"')
    assert "&lt;b&gt;SLA&lt;/b&gt;" in svg and "<b>" not in svg
    assert "style" not in svg
    assert svg.count("<polyline") == 1  # October is a gap: only Nov-Dec join up
    assert svg.count('class="trend-point met"') == 1
    assert svg.count('class="trend-point missed"') == 1
    assert 'class="trend-point met live"' in svg and "December 2026: 85.0 % (so far)" in svg
    assert '<line class="trend-target"' in svg
    assert str(trend_chart([TrendPoint(date(2026, 9, 1), None, False)], kpis.COUNT, "x")) == (
        '<span class="muted">no data</span>'
    )
