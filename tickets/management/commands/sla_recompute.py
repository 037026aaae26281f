"""Recompute the SLA state of tickets from their event log and the contracts
and calendars in force, store it, and report every difference found."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tickets.models import Ticket, TicketStatus
from tickets.sla_services import sla_recompute


class Command(BaseCommand):
    help = "Recompute stored SLA due times and breach flags; report differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ticket", help="one ticket number, e.g. T-000123")
        parser.add_argument(
            "--all", action="store_true", help="closed tickets too (default: unclosed only)"
        )
        parser.add_argument("--dry-run", action="store_true", help="report, store nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        tickets = Ticket.objects.all()
        if options["ticket"]:
            tickets = tickets.filter(number=options["ticket"])
            if not tickets.exists():
                raise CommandError(f"No ticket {options['ticket']}")
        elif not options["all"]:
            tickets = tickets.exclude(status=TicketStatus.CLOSED)
        checked = differing = 0
        now = timezone.now()
        for ticket in tickets.order_by("id").iterator(chunk_size=500):
            checked += 1
            differences = sla_recompute(ticket=ticket, now=now, store=not options["dry_run"])
            if differences:
                differing += 1
                for field, (stored, computed) in differences.items():
                    self.stdout.write(
                        f"{ticket.number} {field}: stored {stored}, computed {computed}"
                    )
        self.stdout.write(f"{checked} tickets checked, {differing} differed.")
