"""A small data set for November 2026 whose KPIs are computed by hand below.

Tickets, changes and backups are built through their services with explicit
times; Network rows (updates, deliveries, stock) directly, as their services
are their own. All times are Amsterdam local time (CET, UTC+1 in November;
summer time ended on 25 October). Standard contract: response 1 h, P2
resolution 16 business hours, Mon-Fri 08:30-17:30.

Incidents (all P2, customer 2000 through the portal unless said otherwise):
  G  Fri 30 Oct 09:00, answered 09:20, resolved Mon 2 Nov 10:00 (hardware)
     resolution: 10 business h (8.5 + 1.5), 73 clock h: counts for November's
     resolution figures, not for its count
  A  Mon 2 Nov 09:00, network, assigned to jr (support), answered 09:30,
     resolved 11:00: 0.5 h response, 2 h resolution
  B  Tue 3 Nov 09:00, answered 09:15, waiting on the customer 10:00 until the
     customer's answer Wed 10:00, resolved Wed 12:00: the paused ticket,
     3 business h (1 + 2), 27 clock h
  C  Thu 5 Nov 09:00, answered 09:30, extension to Fri 13 Nov 10:00 approved
     Thu 11:00, resolved Fri 13 Nov 09:00: the extended ticket, 54 business h
     (8.5 + 9 + 4 x 9 + 0.5), 192 clock h, within the extended due time
  D  Mon 9 Nov 09:00, assigned to jr (support), answered 09:15, escalation
     asked 10:00, approved 11:00 (sr), resolved Tue 09:00: the escalated
     ticket, 9 business h, 24 clock h
  E  Mon 16 Nov 09:00, hardware, answered 11:00 (response breached), resolved
     Thu 19 Nov 09:00 (resolution due Tue 16:00, breached): 27 business h,
     72 clock h; the sweeper records both breaches
  F  Mon 30 Nov 09:00, customer 1000 by email, not answered
  I  Tue 10 Nov 14:00, an information request by phone (not an incident)

  count 6 (A-F); response 3.5 h / 5 = 0.7 h (business = clock, all in
  office hours); resolution 105 / 6 = 17.5 business h, 390 / 6 = 65 clock h;
  without escalation 5/6; response within SLA 4/5; resolution within SLA 5/6;
  1 extension, 1 escalation, 2 breaches.

Changes (customer 2000, requested by jr):
  C1 minor, Mon 2 Nov; planned Tue 3 Nov 10-12, est. 100 / 2 h; carried out
     Tue 10:00-11:00, actual 80 / 1 h: within plan
  C2 major, Mon 2 Nov; approved Wed 4 Nov; planned Thu 5 Nov 20-22, est.
     1000 / 4 h; implemented 23:00 (late), 1200 / 5 h; caused incident E
  C3 major, Tue 3 Nov; rejected Wed 4 Nov
  C4 emergency major, Mon 9 Nov 11:00; approved 11:30; planned 12-13; failed
     12:30, no estimates: within plan, but failed
  minor 1, major 3, emergency 1; approved 2/3, rejected 1/3; within plan
  2/3; estimated 1100, actual 1280; 1 failed; 1 incident / 3 changes.

Backups (Wed 25 Nov): the Unix check (web01-mysql failed, web01-files ok)
and the Windows check (win01-files missing), each problem an incident:
  mysql: major, solved Thu 26 Nov; win01: minor, not solved.
  Unix check done 10:30 (1.5 h), Windows 11:00 (2 h): lead 1.75 h.
  Restore tests: 20 Nov restored, 21 Nov failed.

Updates: nginx 1.27.2 on web01 (10 Nov) and web02 (11 Nov), openssl 3.4.0 on
web01 (12 Nov), php 8.4.1 on web02 failed at its test (13 Nov), nginx 1.27.1
on web03 installed in October: 3 installed, 2 versions, 1 failed.

Deliveries: DL1 requested 2 Nov, delivered 12 Nov (accepted first time);
DL2 requested 3 Nov, delivered 23 Nov (second test round); DL3 requested
20 Nov, in progress. Issues on DL2 (15 Nov) and DL3 (25 Nov).
  lead (10 + 20) / 2 = 15 days; 2 delivered; 2 errors; first test 1/2.

Stock (as of the end of November):
  PO1 Dell, ordered 2 Nov 10:00, expected 10 Nov, received in full 9 Nov
      10:00 (7 days, on time)
  PO2 Ingram, ordered 2 Nov 10:00, expected 12 Nov, 4 of 10 disks on 11 Nov,
      the rest 16 Nov 10:00 (14 days, late; the line was a back-order)
  PO3 Ingram, expected 20 Nov, nothing received (late, back-order)
  PO4 Dell, expected 5 Dec (not due); PO5 cancelled
  due 3, complete on time 1 (33.3 %); received 2, on time 1 (50 %);
  delivery time 10.5 days; back-order lines 2/3.
  Levels from the ledger: Maassluis 2 servers (5000 each), 8 disks (100;
  10 received, 2 issued; 3 more were issued on 1 Dec, after the month, so the
  level is 5 now), 50 cables (2 each, loaded before the ledger, product
  inactive: obsolete); AMS1 1 server. Value 15,900; obsolete 100 (0.6 %);
  disks at or below their reorder level 10: 1 product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.contrib.auth.models import Permission

from accounts.models import User
from backups.models import BackupCheck, BackupProblem, Handling
from backups.services import (
    backup_checks_create,
    backup_checks_refresh,
    backup_problem_solve,
    backup_run_report,
    check_line_handle,
    restore_test_record,
)
from changes.models import Change
from changes.services import (
    change_decide,
    change_link_caused_incident,
    change_record_outcome,
    change_start,
    change_submit,
)
from events.services import event_record
from inventory.models import (
    ConfigurationItem,
    Delivery,
    DeliveryIssue,
    Location,
    MachineUpdate,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockLevel,
    StockMovement,
    Supplier,
)
from reports.periods import AMSTERDAM, month_period
from tests.backups.factories import make_backup_setup
from tests.base import Personas, make_user
from tickets.models import CauseCode, Department, Ticket
from tickets.services import (
    escalation_decide,
    escalation_request,
    extension_decide,
    extension_request,
    ticket_assign,
    ticket_create,
    ticket_message_add,
    ticket_transition,
)
from tickets.sla_services import sla_sweep

NOVEMBER = month_period(date(2026, 11, 1))


def ams(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A local Amsterdam time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


# The monthly snapshot task runs on 1 December at 01:30.
NOW = ams(12, 1, 1, 30)

EXPECTED = {
    "incidents.count": 6,
    "incidents.response_hours": 0.7,
    "incidents.response_wall_hours": 0.7,
    "incidents.resolution_hours": 17.5,
    "incidents.resolution_wall_hours": 65.0,
    "incidents.extensions": 1,
    "incidents.escalations": 1,
    "incidents.without_escalation_pct": 83.3,
    "incidents.response_sla_pct": 80.0,
    "incidents.resolution_sla_pct": 83.3,
    "incidents.breaches": 2,
    "changes.minor": 1,
    "changes.major": 3,
    "changes.emergency": 1,
    "changes.approved_pct": 66.7,
    "changes.rejected_pct": 33.3,
    "changes.within_plan_pct": 66.7,
    "changes.estimated_cost": 1100.0,
    "changes.actual_cost": 1280.0,
    "changes.failed": 1,
    "changes.failures_per_change": 0.33,
    "backups.checks_done": 2,
    "backups.check_lead_hours": 1.75,
    "backups.problems": 2,
    "backups.solved_pct": 50.0,
    "backups.not_solved_pct": 50.0,
    "backups.missing_runs": 1,
    "backups.restore_tests": 2,
    "backups.restore_failed": 1,
    "updates.installed": 3,
    "updates.versions": 2,
    "updates.failed": 1,
    "deliveries.lead_days": 15.0,
    "deliveries.delivered": 2,
    "deliveries.errors": 2,
    "deliveries.first_test_pct": 50.0,
    "stock.reliability_pct": 33.3,
    "stock.delivery_days": 10.5,
    "stock.on_time_pct": 50.0,
    "stock.backorder_pct": 66.7,
    "stock.value": 15900.0,
    "stock.obsolete_pct": 0.6,
    "stock.below_reorder": 1,
}


@dataclass
class Dataset:
    tickets: dict[str, Ticket]
    changes: dict[str, Change]
    problems: dict[str, BackupProblem]


def build(p: Personas) -> Dataset:
    tickets = build_incidents(p)
    changes = build_changes(p, caused=tickets["E"])
    problems = build_backups(p)
    build_updates(p)
    build_deliveries(p)
    build_stock(p)
    return Dataset(tickets=tickets, changes=changes, problems=problems)


# --- Incidents ----------------------------------------------------------------------


def build_incidents(p: Personas) -> dict[str, Ticket]:
    configuration = CauseCode.objects.get(code="configuration")
    hardware = CauseCode.objects.get(code="hardware")
    support = Department.objects.get(code="support")

    def incident(at: datetime, subject: str, **fields: object) -> Ticket:
        values: dict[str, object] = {
            "customer": p.other_customer,
            "subject": subject,
            "message": f"{subject}.",
            "type": "incident",
            "channel": "portal",
            "actor": p.other_customer_user,
            "now": at,
            **fields,
        }
        return ticket_create(**values)  # type: ignore[arg-type]

    def answer(ticket: Ticket, at: datetime) -> None:
        ticket_message_add(ticket=ticket, body="We are on it.", public=True, actor=p.jr, now=at)

    def resolve(ticket: Ticket, at: datetime, cause: CauseCode = configuration) -> None:
        ticket_transition(
            ticket=ticket,
            to="resolved",
            resolution="solved",
            cause_code=cause,
            note="Fixed.",
            actor=p.jr,
            now=at,
        )

    g = incident(ams(10, 30, 9), "G: backup disk failed")
    answer(g, ams(10, 30, 9, 20))
    resolve(g, ams(11, 2, 10), hardware)

    a = incident(ams(11, 2, 9), "A: VPN drops", category="network")
    ticket_assign(ticket=a, assignee=p.jr, department=support, actor=p.head, now=ams(11, 2, 9, 5))
    answer(a, ams(11, 2, 9, 30))
    resolve(a, ams(11, 2, 11))

    b = incident(ams(11, 3, 9), "B: mail bounces")
    answer(b, ams(11, 3, 9, 15))
    ticket_transition(ticket=b, to="waiting_on_customer", actor=p.jr, now=ams(11, 3, 10))
    ticket_message_add(
        ticket=b, body="It is info@.", public=True, actor=p.other_customer_user, now=ams(11, 4, 10)
    )
    resolve(b, ams(11, 4, 12))

    c = incident(ams(11, 5, 9), "C: RAID degraded")
    answer(c, ams(11, 5, 9, 30))
    extension = extension_request(
        ticket=c,
        reason="The controller is on order.",
        appointment=ams(11, 13, 10),
        actor=p.jr,
        now=ams(11, 5, 10),
    )
    extension_decide(extension=extension, approve=True, actor=p.itm, now=ams(11, 5, 11))
    resolve(c, ams(11, 13, 9))

    d = incident(ams(11, 9, 9), "D: database locks")
    ticket_assign(ticket=d, assignee=p.jr, department=support, actor=p.head, now=ams(11, 9, 9, 5))
    answer(d, ams(11, 9, 9, 15))
    escalation = escalation_request(
        ticket=d,
        reason="Tried with a colleague; needs a senior.",
        tried_together=True,
        actor=p.jr,
        now=ams(11, 9, 10),
    )
    escalation_decide(
        escalation=escalation, approve=True, engineer=p.sr, actor=p.head, now=ams(11, 9, 11)
    )
    resolve(d, ams(11, 10, 9))

    e = incident(ams(11, 16, 9), "E: server down", category="hardware")
    sla_sweep(now=ams(11, 16, 10, 30))  # the response breach is recorded
    answer(e, ams(11, 16, 11))
    sla_sweep(now=ams(11, 18, 8))  # the resolution breach (due Tue 16:00)
    resolve(e, ams(11, 19, 9), hardware)

    f = incident(
        ams(11, 30, 9),
        "F: slow site",
        customer=p.customer,
        actor=p.customer_user,
        channel="email",
    )
    info = ticket_create(
        customer=p.other_customer,
        subject="I: which PHP versions?",
        message="Which versions do you support?",
        type="information_request",
        channel="phone",
        actor=p.jr,
        now=ams(11, 10, 14),
    )
    names = {"G": g, "A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "I": info}
    return {name: Ticket.objects.get(pk=t.pk) for name, t in names.items()}


# --- Changes ------------------------------------------------------------------------

NO = {"multiple_users": False, "dependencies": False, "unsupported": False, "investment": False}
MAJOR = {**NO, "multiple_users": True}
WHY = {"multiple_users": "Every mailbox of the customer."}
PLANS = {"implementation_plan": "Step by step.", "rollback_plan": "Restore the snapshot."}


def build_changes(p: Personas, caused: Ticket) -> dict[str, Change]:
    def submit(subject: str, at: datetime, answers: dict[str, bool], **fields: object) -> Change:
        values: dict[str, object] = {
            "subject": subject,
            "message": f"{subject}.",
            "impact": "medium",
            "urgency": "medium",
            "answers": answers,
            "justifications": WHY if answers["multiple_users"] else {},
            "customer": p.other_customer,
            "actor": p.jr,
            "now": at,
            **fields,
        }
        return change_submit(**values)  # type: ignore[arg-type]

    c1 = submit(
        "C1: raise PHP memory",
        ams(11, 2, 10),
        NO,
        planned_start=ams(11, 3, 10),
        planned_end=ams(11, 3, 12),
        estimated_cost=Decimal("100"),
        estimated_hours=Decimal("2"),
    )
    change_start(change=c1, actor=p.jr, now=ams(11, 3, 10))
    change_record_outcome(
        change=c1,
        outcome="implemented",
        note="",
        actual_cost=Decimal("80"),
        actual_hours=Decimal("1"),
        actor=p.jr,
        now=ams(11, 3, 11),
    )

    c2 = submit(
        "C2: move mail to the new cluster",
        ams(11, 2, 11),
        MAJOR,
        planned_start=ams(11, 5, 20),
        planned_end=ams(11, 5, 22),
        estimated_cost=Decimal("1000"),
        estimated_hours=Decimal("4"),
        **PLANS,
    )
    change_decide(change=c2, decision="approved", actor=p.cm, now=ams(11, 4, 14))
    change_start(change=c2, actor=p.jr, now=ams(11, 5, 20))
    change_record_outcome(
        change=c2,
        outcome="implemented",
        note="",
        actual_cost=Decimal("1200"),
        actual_hours=Decimal("5"),
        actor=p.jr,
        now=ams(11, 5, 23),
    )
    change_link_caused_incident(change=c2, ticket=caused, actor=p.jr, now=ams(11, 16, 12))

    c3 = submit("C3: switch the DNS provider", ams(11, 3, 10), MAJOR, **PLANS)
    change_decide(
        change=c3,
        decision="rejected",
        argumentation="Too risky before the holidays.",
        alternatives="Do it in January.",
        actor=p.cm,
        now=ams(11, 4, 14),
    )

    c4 = submit(
        "C4: grow the full disk",
        ams(11, 9, 11),
        MAJOR,
        emergency=True,
        planned_start=ams(11, 9, 12),
        planned_end=ams(11, 9, 13),
        **PLANS,
    )
    change_decide(change=c4, decision="approved", actor=p.cm, now=ams(11, 9, 11, 30))
    change_start(change=c4, actor=p.jr, now=ams(11, 9, 12))
    change_record_outcome(
        change=c4,
        outcome="failed",
        note="The volume would not grow.",
        actor=p.jr,
        now=ams(11, 9, 12, 30),
    )
    names = {"C1": c1, "C2": c2, "C3": c3, "C4": c4}
    return {name: Change.objects.get(pk=c.pk) for name, c in names.items()}


# --- Backups ------------------------------------------------------------------------


def build_backups(p: Personas) -> dict[str, BackupProblem]:
    setup = make_backup_setup(p)
    backup_run_report(
        job=setup.mysql, status="failed", started_at=ams(11, 25, 1), now=ams(11, 25, 8)
    )
    backup_run_report(
        job=setup.files, status="success", started_at=ams(11, 24, 23), now=ams(11, 25, 8)
    )
    backup_checks_create(now=ams(11, 25, 9))
    backup_checks_refresh(now=ams(11, 25, 9, 1))  # win01 never reported: missing
    unix = BackupCheck.objects.get(group=setup.unix)
    windows = BackupCheck.objects.get(group=setup.windows)
    mysql = check_line_handle(
        line=unix.lines.get(job=setup.mysql),
        handling=Handling.INCIDENT,
        severity="major",
        assignee=p.sr,
        description="The full backup failed.",
        actor=p.sr,
        now=ams(11, 25, 10, 30),
    ).problem
    win = check_line_handle(
        line=windows.lines.get(job=setup.win),
        handling=Handling.INCIDENT,
        severity="minor",
        assignee=p.jr,
        description="No report from win01.",
        actor=p.jr,
        now=ams(11, 25, 11),
    ).problem
    assert mysql is not None and win is not None
    backup_problem_solve(
        problem=mysql,
        cause="The backup disk was full.",
        solution="Old backups pruned.",
        actor=p.sr,
        now=ams(11, 26, 10),
    )
    restore_test_record(
        job=setup.mysql,
        performed_on=date(2026, 11, 20),
        result="success",
        actor=p.sr,
        now=ams(11, 20, 15),
    )
    restore_test_record(
        job=setup.win,
        performed_on=date(2026, 11, 21),
        result="failed",
        actor=p.jr,
        now=ams(11, 21, 15),
    )
    return {"mysql": BackupProblem.objects.get(pk=mysql.pk), "win": win}


# --- Network ------------------------------------------------------------------------


def build_updates(p: Personas) -> None:
    def machine(hostname: str) -> ConfigurationItem:
        return ConfigurationItem.objects.create(
            hostname=hostname,
            kind="vps_vmware",
            customer=p.other_customer,
            status="in_production",
            created_at=ams(1, 5, 10),
            updated_at=ams(1, 5, 10),
        )

    web01, web02, web03 = machine("web01"), machine("web02"), machine("web03")

    def update(
        item: ConfigurationItem, software: str, version: str, **fields: object
    ) -> MachineUpdate:
        return MachineUpdate.objects.create(
            item=item,
            software=software,
            new_version=version,
            engineer=p.sr,
            created_at=ams(10, 1, 10),
            updated_at=ams(11, 20, 10),
            **fields,
        )

    update(web01, "nginx", "1.27.2", status="done", installed_at=ams(11, 10, 10))
    update(web02, "nginx", "1.27.2", status="done", installed_at=ams(11, 11, 10))
    update(web01, "openssl", "3.4.0", status="verified", installed_at=ams(11, 12, 10))
    update(web03, "nginx", "1.27.1", status="done", installed_at=ams(10, 20, 10))
    failed = update(web02, "php", "8.4.1", status="failed")
    event_record(
        obj=failed,
        kind="update.transition",
        actor=p.sr,
        now=ams(11, 13, 10),
        from_state="approved",
        to_state="failed",
        reason="The shop crashed on the test machine.",
    )


def build_deliveries(p: Personas) -> None:
    def delivery(requested: datetime, **fields: object) -> Delivery:
        return Delivery.objects.create(
            customer=p.other_customer,
            origin="order",
            requested_by=p.sales,
            server_kind="virtual",
            hypervisor="vmware",
            os_name="Debian 12",
            contacts="Jan, 010-1234567",
            wanted_on=date(2026, 12, 1),
            engineer=p.sr,
            requested_at=requested,
            **fields,
        )

    delivery(ams(11, 2, 9), status="delivered", customer_test_rounds=1, delivered_at=ams(11, 12, 9))
    second = delivery(
        ams(11, 3, 9), status="delivered", customer_test_rounds=2, delivered_at=ams(11, 23, 9)
    )
    third = delivery(ams(11, 20, 9), status="in_progress")
    for item, at in ((second, ams(11, 15, 10)), (third, ams(11, 25, 10))):
        DeliveryIssue.objects.create(
            delivery=item, description="Wrong PHP version", recorded_by=p.sr, recorded_at=at
        )


def build_stock(p: Personas) -> None:
    office = Location.objects.get(code="mls")
    datacenter = Location.objects.get(code="ams1")
    dell = Supplier.objects.create(name="Dell")
    ingram = Supplier.objects.create(name="Ingram")
    server = Product.objects.create(
        sku="r650",
        name="PowerEdge R650",
        kind="server",
        unit_price=Decimal("5000"),
        reorder_level=1,
    )
    disk = Product.objects.create(
        sku="disk-4tb", name="Disk 4 TB", kind="part", unit_price=Decimal("100"), reorder_level=10
    )
    cable = Product.objects.create(
        sku="cable", name="Cable", kind="consumable", unit_price=Decimal("2"), active=False
    )

    def order(
        supplier: Supplier, ordered: datetime, expected: date, **fields: object
    ) -> PurchaseOrder:
        return PurchaseOrder.objects.create(
            supplier=supplier,
            destination=office,
            expected_on=expected,
            ordered_by=p.sr,
            ordered_at=ordered,
            **fields,
        )

    def line(
        po: PurchaseOrder, product: Product, quantity: int, received: int
    ) -> PurchaseOrderLine:
        return PurchaseOrderLine.objects.create(
            order=po,
            product=product,
            quantity=quantity,
            received_quantity=received,
            unit_price=product.unit_price,
        )

    def receive(po_line: PurchaseOrderLine, quantity: int, at: datetime) -> None:
        Receipt.objects.create(
            order_line=po_line, quantity=quantity, location=office, received_by=p.sr, received_at=at
        )

    po1 = order(
        dell, ams(11, 2, 10), date(2026, 11, 10), status="received", received_at=ams(11, 9, 10)
    )
    receive(line(po1, server, 2, 2), 2, ams(11, 9, 10))
    po2 = order(
        ingram, ams(11, 2, 10), date(2026, 11, 12), status="received", received_at=ams(11, 16, 10)
    )
    disks = line(po2, disk, 10, 10)
    receive(disks, 4, ams(11, 11, 10))
    receive(disks, 6, ams(11, 16, 10))
    po3 = order(ingram, ams(11, 10, 10), date(2026, 11, 20))
    line(po3, disk, 5, 0)
    line(order(dell, ams(11, 25, 10), date(2026, 12, 5)), server, 1, 0)
    line(order(dell, ams(11, 2, 10), date(2026, 11, 15), status="cancelled"), server, 1, 0)

    levels = [
        (server, office, 2, [(2, ams(11, 9, 10))]),
        # 8 at the end of November; the issue on 1 December is after it.
        (disk, office, 5, [(10, ams(11, 16, 10)), (-2, ams(11, 20, 10)), (-3, ams(12, 1, 0, 30))]),
        (cable, office, 50, []),  # loaded before the ledger; inactive: obsolete
        (server, datacenter, 1, [(1, ams(11, 20, 10))]),
    ]
    for product, location, quantity, movements in levels:
        StockLevel.objects.create(product=product, location=location, quantity=quantity)
        balance = 0
        for change, at in movements:
            balance += change
            StockMovement.objects.create(
                product=product,
                location=location,
                kind="receipt" if change > 0 else "issue",
                quantity=change,
                balance_after=balance,
                actor=p.sr,
                created_at=at,
            )


def make_reporter(
    username: str = "boss", *, may_set_targets: bool = False, password: str | None = None
) -> User:
    """A staff user who may open the reports (and, if asked, set targets)."""
    user = make_user(username, password=password)
    codenames = ["view_report"] + (["change_kpitarget"] if may_set_targets else [])
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="reports", codename__in=codenames)
    )
    return user
