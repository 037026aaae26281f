"""seed_bulk beyond tickets: the counts of every part at a small N, the rules the rows must
keep (numbers, the stock ledger, check lines and their runs, handled past checks, model
validation), that the KPIs read the data, and that a second run adds without clashes.
tests/tickets/test_seed_bulk.py covers the tickets and their SLA columns."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.db import models
from django.db.models import Count, F, Sum
from django.test import TestCase

from accounts.models import Customer, User
from backups import schedule
from backups.models import (
    NEEDS_HANDLING,
    BackupCheck,
    BackupJob,
    BackupProblem,
    BackupRun,
    CheckLine,
    Handling,
    LineState,
    RestoreTest,
)
from changes import classifier
from changes.models import Change, ChangeStatus, Classification
from events.models import Event
from inventory.models import (
    ConfigurationItem,
    Delivery,
    DeliveryStep,
    InstalledSoftware,
    IpAddress,
    MachineUpdate,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockLevel,
    StockMovement,
)
from reports.periods import custom
from reports.selectors import report_values
from tickets.models import Department, Ticket

# A Wednesday morning after the backup check hour (09:00 Amsterdam), so today's checks exist.
NOW = datetime(2026, 3, 18, 10, 15, tzinfo=UTC)
TICKETS, CUSTOMERS = 300, 30


def seed(tickets: int = TICKETS, now: datetime = NOW) -> str:
    out = StringIO()
    call_command(
        "seed_bulk",
        tickets=tickets,
        customers=CUSTOMERS,
        seed=5,
        now=now.isoformat(),
        stdout=out,
    )
    return out.getvalue()


NUMBERED: list[tuple[type[models.Model], str]] = [
    (Ticket, "T"),
    (Change, "C"),
    (BackupProblem, "BP"),
    (PurchaseOrder, "PO"),
    (MachineUpdate, "U"),
    (Delivery, "D"),
]


class SeedBulkTest(TestCase):
    output: str

    @classmethod
    def setUpTestData(cls) -> None:
        cls.output = seed()

    def assert_numbered(self) -> None:
        for model, prefix in NUMBERED:
            rows = list(model._default_manager.values_list("pk", "number"))
            self.assertTrue(rows, model.__name__)
            for pk, number in rows:
                self.assertEqual(number, f"{prefix}-{pk:06d}")

    def assert_ledgers_balance(self) -> None:
        """Each level's ledger, in time order, adds up step by step to its balances,
        never goes below zero, and ends at the level's quantity."""
        levels = StockLevel.objects.all()
        self.assertTrue(StockMovement.objects.exists())
        for level in levels:
            balance = 0
            moves = StockMovement.objects.filter(
                product=level.product_id, location=level.location_id
            ).order_by("created_at", "id")
            for quantity, balance_after in moves.values_list("quantity", "balance_after"):
                balance += quantity
                self.assertEqual(balance_after, balance)
                self.assertGreaterEqual(balance, 0)
            self.assertEqual(level.quantity, balance, str(level))

    def test_it_prints_timings_per_part_and_the_peak_rss(self) -> None:
        for part in ("people:", "tickets:", "inventory:", "backups:", "changes:", "commit"):
            self.assertIn(part, self.output)
        self.assertIn(f"Done: {TICKETS} tickets", self.output)
        self.assertIn("peak RSS", self.output)

    def test_it_makes_every_part_in_proportion(self) -> None:
        self.assertEqual(Customer.objects.count(), CUSTOMERS)
        self.assertEqual(User.objects.filter(username__startswith="bulk-eng-").count(), 200)
        self.assertEqual(Department.objects.filter(code__startswith="bulk-q").count(), 20)
        self.assertEqual(Ticket.objects.count(), TICKETS)
        self.assertEqual(Change.objects.count(), TICKETS // 50)
        # One or two machines per customer, plus the servers received into stock.
        machines = ConfigurationItem.objects.filter(hostname__isnull=False)
        self.assertTrue(CUSTOMERS <= machines.count() <= 2 * CUSTOMERS)
        per_customer = Counter(machines.values_list("customer_id", flat=True))
        self.assertEqual(set(per_customer.values()) - {1, 2}, set())
        self.assertEqual(len(per_customer), CUSTOMERS)
        self.assertGreater(IpAddress.objects.count(), machines.count() // 2)
        self.assertTrue(InstalledSoftware.objects.filter(behind=True).exists())
        self.assertTrue(MachineUpdate.objects.exists())
        self.assertTrue(Delivery.objects.exists())
        jobs = BackupJob.objects.count()
        self.assertGreater(jobs, CUSTOMERS // 2)
        # A run per job and night, less the few that never reported or skip the weekend.
        runs = BackupRun.objects.count()
        self.assertTrue(50 * jobs <= runs <= 60 * jobs, (runs, jobs))
        self.assertEqual(BackupCheck.objects.count(), 6 * 60)  # six groups, 60 days
        self.assertGreaterEqual(CheckLine.objects.count(), runs)
        self.assertTrue(BackupProblem.objects.exists())
        self.assertTrue(RestoreTest.objects.exists())
        self.assertEqual(PurchaseOrder.objects.count(), 20)
        self.assertTrue(Receipt.objects.exists())
        self.assertFalse(Event.objects.filter(processed_at__isnull=True).exists())

    def test_it_numbers_every_numbered_entity(self) -> None:
        self.assert_numbered()

    def test_it_keeps_each_stock_ledger_equal_to_its_level(self) -> None:
        self.assert_ledgers_balance()
        lines = PurchaseOrderLine.objects.annotate(receipts_total=Sum("receipts__quantity"))
        for line in lines:
            self.assertEqual(line.received_quantity, line.receipts_total or 0)
            self.assertLessEqual(line.received_quantity, line.quantity)
        received = PurchaseOrder.objects.filter(status="received")
        self.assertFalse(received.filter(lines__received_quantity__lt=F("lines__quantity")))

    def test_it_links_check_lines_to_the_runs_of_their_night(self) -> None:
        lines = CheckLine.objects.select_related("run", "backup_check")
        self.assertTrue(lines.filter(run__isnull=False).exists())
        for line in lines:
            local_day = line.backup_check.day
            if line.run is None:
                self.assertIn(line.state, (LineState.MISSING, LineState.PENDING))
                continue
            self.assertEqual(line.run.job_id, line.job_id)
            self.assertLess(abs(line.run.started_at - line.expected_start), schedule.MATCH_WINDOW)
            # The night belongs to the morning of the check day.
            start_day = line.expected_start.astimezone(schedule.AMSTERDAM).date()
            self.assertIn(local_day - start_day, (timedelta(0), timedelta(days=1)))
            expected = {"success": "ok", "warning": "warning", "failed": "failed"}
            self.assertEqual(line.state, expected[line.run.status])

    def test_past_checks_are_done_and_todays_wait_for_the_checker(self) -> None:
        today = NOW.astimezone(schedule.AMSTERDAM).date()
        self.assertFalse(BackupCheck.objects.filter(day__lt=today, completed_at__isnull=True))
        self.assertEqual(BackupCheck.objects.filter(day=today, completed_at=None).count(), 6)
        past = CheckLine.objects.filter(backup_check__day__lt=today, state__in=NEEDS_HANDLING)
        self.assertFalse(past.filter(handling=""))
        self.assertTrue(past.filter(handling=Handling.INCIDENT, problem__isnull=False))
        self.assertEqual(
            BackupProblem.objects.count(),
            CheckLine.objects.filter(handling=Handling.INCIDENT).count(),
        )
        for check in BackupCheck.objects.filter(day__lt=today)[:20]:
            last = check.lines.aggregate(m=models.Max("handled_at"))["m"]
            assert check.completed_at is not None
            self.assertTrue(last is None or last <= check.completed_at)

    def test_rows_pass_model_validation(self) -> None:
        """What SQLite does not enforce (choices, lengths, slugs) checked by full_clean."""
        for model in (
            Ticket,
            Change,
            ConfigurationItem,
            IpAddress,
            InstalledSoftware,
            MachineUpdate,
            Delivery,
            DeliveryStep,
            BackupJob,
            BackupRun,
            CheckLine,
            BackupProblem,
            PurchaseOrder,
            PurchaseOrderLine,
            Receipt,
            StockMovement,
        ):
            for obj in model._default_manager.order_by("?")[:15]:
                # NULL where the column allows it is the services' way too (an update's
                # research answers are unknown until it is researched).
                unset = [
                    f.name for f in model._meta.fields if f.null and getattr(obj, f.attname) is None
                ]
                obj.full_clean(exclude=unset)

    def test_changes_walk_the_transitions_with_events(self) -> None:
        statuses = set(Change.objects.values_list("status", flat=True))
        self.assertIn(ChangeStatus.CLOSED, statuses)
        for change in Change.objects.all():
            # Computed from the four answers, every "yes" justified.
            result = classifier.classify(change.answers, change.justifications)
            self.assertEqual(result.classification, change.classification)
            self.assertEqual(result.missing_justifications, ())
            events = Event.objects.filter(
                content_type__model="change", object_id=change.pk
            ).order_by("created_at", "id")
            kinds = list(events.values_list("kind", "to_state"))
            self.assertEqual(kinds[0], ("change.submitted", ChangeStatus.SUBMITTED))
            self.assertEqual(kinds[-1][1] or ChangeStatus.SUBMITTED, change.status)
            if change.decision:
                self.assertIsNotNone(change.decided_at)
            if change.classification == Classification.MAJOR and not change.emergency:
                self.assertIsNotNone(change.cab_meeting_id)  # on the next meeting's agenda

    def test_the_reports_read_every_process(self) -> None:
        today = NOW.astimezone(schedule.AMSTERDAM).date()
        values = report_values(period=custom(today - timedelta(days=89), today), now=NOW)
        kpis = values["kpis"]
        for code in ("backups.checks_done", "backups.problems", "stock.value"):
            self.assertTrue(kpis[code], code)
        self.assertIsNotNone(kpis["incidents.response_sla_pct"])

    def test_a_second_run_adds_without_clashes(self) -> None:
        before = {
            model: model._default_manager.count()
            for model in (Ticket, Change, BackupJob, BackupRun, PurchaseOrder)
        }
        machines = ConfigurationItem.objects.filter(hostname__isnull=False)
        hosts = set(machines.values_list("hostname", flat=True))
        output = seed(tickets=100, now=NOW + timedelta(days=3))
        self.assertIn("Done: 100 tickets", output)
        self.assertEqual(Ticket.objects.count(), before[Ticket] + 100)
        self.assertEqual(Change.objects.count(), before[Change] + 2)
        self.assertEqual(PurchaseOrder.objects.count(), before[PurchaseOrder] + 20)
        # The customers have their machines and backups: nothing made twice.
        self.assertEqual(Customer.objects.count(), CUSTOMERS)
        self.assertEqual(User.objects.filter(username__startswith="bulk-eng-").count(), 200)
        self.assertEqual(set(machines.values_list("hostname", flat=True)), hosts)
        self.assertEqual(BackupJob.objects.count(), before[BackupJob])
        self.assertEqual(BackupRun.objects.count(), before[BackupRun])
        self.assert_numbered()
        self.assert_ledgers_balance()


def test_without_tickets_it_makes_everything_else(db: None) -> None:
    output = seed(tickets=0)
    assert "Done: 0 tickets" in output
    assert not Ticket.objects.exists()
    assert not Change.objects.exists()
    assert ConfigurationItem.objects.exists()
    assert BackupRun.objects.exists()
    assert PurchaseOrder.objects.count() == 20
    per_state = dict(CheckLine.objects.values_list("state").annotate(n=Count("id")))
    assert per_state[LineState.OK] > sum(v for k, v in per_state.items() if k != LineState.OK)
