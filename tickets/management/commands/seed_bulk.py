"""Bulk data for performance measurement, written in bulk (COPY on PostgreSQL, bulk_create
elsewhere): no model save(), no signals, no services.

Usage: manage.py seed_bulk --tickets N [--customers 5000] [--years 2] [--seed 1]
       [--batch 5000] [--now 2026-05-01T12:00:00+02:00]

What a run makes (C = --customers, N = --tickets; docs/performance.md has the counts):

- Shared, made once and reused by later runs: C customers numbered from 100000, 200
  engineers bulk-eng-001 ... bulk-eng-200 (engineer role, unusable password) and 20
  departments (queues bulk-q01 ... bulk-q20, ten engineers each).
- Per run, proportional to N (tickets/bulk.py, changes/bulk.py): N tickets over the last
  --years, each with about 2 messages and 6 events; N/50 changes with about 5 events each.
- Per customer, made once for every bulk customer without machines (inventory/bulk.py,
  backups/bulk.py): 1.5 C machines with addresses and software, about 0.4 C machine updates and
  0.03 C deliveries; 1.4 C backup jobs with every night of the last 60 days, so 80 C backup runs
  and as many check lines, 360 checks (six groups, 60 days) and about 1.2 C backup problems.
- Per run, a stock ledger (inventory/bulk_stock.py): 0.06 C purchase orders (at least 20) with
  their lines and receipts, then issues, transfers and count differences, continuing each
  stock level's ledger after its last movement.

`--tickets 0` makes everything but tickets and changes. Each part gets its own random stream
from --seed, so a run is reproducible and the tickets do not change when another part does.
Everything after the customers and engineers runs in one transaction: an interrupted run
leaves nothing half-made. Timings per part and the peak RSS are printed at the end.
"""

from __future__ import annotations

import random
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Customer, Grade, User
from accounts.roles import Role, roles_sync
from backups.bulk import seed_backups
from changes.bulk import seed_changes
from inventory.bulk import seed_inventory
from tickets.bulk import TicketsDone, seed_tickets
from tickets.models import Department, SlaContract
from tickets.seed import seed_reference_data

FIRST_CUSTOMER_NUMBER = 100000  # far above the demo customers (1000, 2000, ...)
ENGINEERS = 200
CHANGES_PER_TICKET = 1 / 50
DEPARTMENTS = [
    "Service desk",
    "Unix/Linux",
    "Windows",
    "Network",
    "Hosting",
    "Databases",
    "Mail",
    "Security",
    "Storage",
    "Backup",
    "Cloud",
    "Web applications",
    "Monitoring",
    "Field service",
    "Workplace",
    "VoIP",
    "Onboarding",
    "Procurement",
    "Major incidents",
    "Second line",
]
COMPANY_WORDS = [
    "Noord",
    "Delta",
    "Polder",
    "Haven",
    "Rijn",
    "Duin",
    "Molen",
    "Kade",
    "Brug",
    "Veen",
    "Zuid",
    "Oost",
    "Linde",
    "Eik",
    "Tulp",
]
COMPANY_KINDS = ["Logistiek", "Zorg", "Bouw", "Media", "Advies", "Techniek", "Handel", "Groep"]
FIRST_NAMES = ["Anouk", "Bram", "Daan", "Eva", "Femke", "Joris", "Lotte", "Milan", "Noor", "Ruben"]
LAST_NAMES = ["Bakker", "de Vries", "Jansen", "Visser", "Smit", "Meijer", "Mulder", "Bos"]
GRADES = [Grade.JUNIOR, Grade.MEDIOR, Grade.MEDIOR, Grade.SENIOR]


class Command(BaseCommand):
    help = "Fill the database with bulk data (tickets, changes, machines, backups, stock)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, required=True, help="tickets to add")
        parser.add_argument("--customers", type=int, default=5000, help="bulk customers")
        parser.add_argument("--years", type=float, default=2, help="period the tickets span")
        parser.add_argument("--seed", type=int, default=1, help="random seed")
        parser.add_argument("--batch", type=int, default=5000, help="tickets per bulk insert")
        parser.add_argument(
            "--now", help="ISO datetime the data is generated for (default: the current time)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, batch = options["tickets"], options["batch"]
        if count < 0 or batch < 1 or options["customers"] < 1 or options["years"] <= 0:
            raise CommandError("--tickets >= 0, --batch >= 1, --customers >= 1, --years > 0")
        if connection.vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"seed_bulk supports PostgreSQL and SQLite, not {connection.vendor}")
        now = self._now(options["now"])
        seed, years = options["seed"], options["years"]
        rng = random.Random(seed)
        self.started = time.monotonic()

        def stream(part: str) -> random.Random:
            return random.Random(f"{seed}:{part}")

        seed_reference_data()
        customers = self._customers(rng, options["customers"])
        engineers = self._engineers(rng)
        departments = self._departments()
        self.stdout.write(
            f"people: {len(customers)} customers, {len(engineers)} engineers, "
            f"{len(departments)} departments ({_since(self.started)})"
        )
        with transaction.atomic():
            started = time.monotonic()
            tickets = seed_tickets(
                rng=rng,
                customers=customers,
                engineers=engineers,
                departments=departments,
                now=now,
                count=count,
                years=years,
                batch=batch,
                progress=lambda done: self._progress(done, count),
            )
            self._report("tickets", _tickets_summary(tickets), started)
            started = time.monotonic()
            inventory = seed_inventory(
                rng=stream("inventory"),
                customers=customers,
                engineers=engineers,
                now=now,
                years=years,
            )
            self._report("inventory", _counts(inventory.counts), started)
            started = time.monotonic()
            backups = seed_backups(
                rng=stream("backups"),
                customers=customers,
                engineers=engineers,
                now=now,
                machines=inventory.machines,
            )
            self._report("backups", _counts(backups), started)
            started = time.monotonic()
            changes = seed_changes(
                rng=stream("changes"),
                customers=customers,
                engineers=engineers,
                now=now,
                count=round(count * CHANGES_PER_TICKET),
                since=now - timedelta(days=365.25 * years),
                first_ticket_id=tickets.first_id,
            )
            self._report("changes", _counts(changes), started)
            committing = time.monotonic()
        self.stdout.write(f"commit (deferred foreign-key checks): {_since(committing)}")
        # Linux reports ru_maxrss in kilobytes.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"Done: {count} tickets (ids from {tickets.first_id}), "
            f"{tickets.closed} closed / {tickets.unclosed} unclosed, now={now.isoformat()}, "
            f"in {_since(self.started)}, peak RSS {peak:.0f} MB"
        )

    def _report(self, part: str, summary: str, started: float) -> None:
        self.stdout.write(f"{part}: {summary} ({_since(started)})")

    def _progress(self, done: TicketsDone, total: int) -> None:
        self.stdout.write(f"  {done.tickets}/{total} tickets, {_since(self.started)}")

    # --- set-up ------------------------------------------------------------------------

    def _now(self, value: str | None) -> datetime:
        if not value:
            return timezone.now()
        parsed = parse_datetime(value)
        if parsed is None:
            raise CommandError(f"--now {value!r} is not an ISO datetime")
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed.astimezone(UTC)

    def _customers(self, rng: random.Random, count: int) -> list[Customer]:
        contracts = {
            c.code: c for c in SlaContract.objects.filter(code__in=["managed", "standard"])
        }
        numbers = [str(FIRST_CUSTOMER_NUMBER + i) for i in range(count)]
        rows = []
        for number in numbers:
            managed = rng.random() < 0.1
            name = f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} "
            rows.append(
                Customer(
                    number=number,
                    name=f"{name}{rng.choice(COMPANY_KINDS)} B.V.",
                    email=f"it@c{number}.example",
                    is_managed=managed,
                    sla_contract=contracts["managed" if managed else "standard"],
                )
            )
        # Existing bulk customers (an earlier run) are kept as they are.
        Customer.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        found: list[Customer] = []
        for start in range(0, len(numbers), 2000):
            found += Customer.objects.filter(number__in=numbers[start : start + 2000])
        return sorted(found, key=lambda c: int(c.number))

    def _engineers(self, rng: random.Random) -> list[User]:
        names = [f"bulk-eng-{i:03d}" for i in range(1, ENGINEERS + 1)]
        password = make_password(None)  # unusable: nobody logs in as these
        rows = [
            User(
                username=name,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=f"{name}@example.test",
                is_staff=True,
                grade=GRADES[i % len(GRADES)],
                password=password,
            )
            for i, name in enumerate(names, start=1)
        ]
        User.objects.bulk_create(rows, ignore_conflicts=True)
        engineers = list(User.objects.filter(username__in=names).order_by("username"))
        roles_sync()
        group = Group.objects.get(name=Role.ENGINEER)
        membership = User.groups.through
        membership.objects.bulk_create(
            [membership(user_id=user.pk, group_id=group.pk) for user in engineers],
            ignore_conflicts=True,
        )
        return engineers

    def _departments(self) -> list[Department]:
        codes = [f"bulk-q{i:02d}" for i in range(1, len(DEPARTMENTS) + 1)]
        Department.objects.bulk_create(
            [
                Department(code=code, name=name)
                for code, name in zip(codes, DEPARTMENTS, strict=True)
            ],
            ignore_conflicts=True,
        )
        return list(Department.objects.filter(code__in=codes).order_by("code"))


def _since(started: float) -> str:
    return f"{time.monotonic() - started:.1f}s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value} {name}" for name, value in counts.items())


def _tickets_summary(done: TicketsDone) -> str:
    return (
        f"{done.tickets} tickets, {done.messages} messages, {done.events} events; "
        f"generating {done.generating:.1f}s, writing {done.writing:.1f}s"
    )
