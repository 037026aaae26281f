"""Keep the snapshots of closed months that have none, e.g. the months before
the reports were installed. It never replaces a snapshot: a month that has
one keeps it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reports.periods import add_months, previous_month
from reports.services import snapshot_month


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError as error:
        raise CommandError(f"--since wants a month as YYYY-MM, not {value!r}") from error


class Command(BaseCommand):
    help = "Keep the KPI snapshot of every closed month since --since that has none yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="the first month, YYYY-MM")

    def handle(self, *args: Any, since: str, **options: Any) -> None:
        now = timezone.now()
        month, last = _month(since), previous_month(now)
        if month > last:
            raise CommandError(f"{since} has not ended yet")
        while month <= last:
            snapshot, created = snapshot_month(month=month, now=now)
            state = "kept" if created else "already kept"
            taken = timezone.localtime(snapshot.created_at)
            self.stdout.write(f"{month:%Y-%m}: {state} ({taken:%Y-%m-%d %H:%M})")
            month = add_months(month, 1)
