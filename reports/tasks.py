from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.periods import previous_month
from reports.services import snapshot_month as snapshot_month_service


@shared_task(name="reports.snapshot_month")
def snapshot_month() -> dict[str, object]:
    """Keep last month's KPIs (the month before the local month of now, in
    Amsterdam). Beat runs it every night; only the first run of a month
    stores anything, the unique constraint on the month makes the rest no-ops."""
    now = timezone.now()
    month = previous_month(now)
    snapshot, created = snapshot_month_service(month=month, now=now)
    return {"month": snapshot.month.isoformat(), "created": created}
