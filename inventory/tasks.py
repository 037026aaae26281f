from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from inventory.stock_services import stock_counts_schedule


@shared_task(name="inventory.schedule_stock_counts")
def schedule_stock_counts() -> dict[str, int]:
    """Each location with stock is counted monthly; beat runs this every
    morning, so a month whose first days were missed still gets its count
    (idempotent: a location with a count this month is skipped)."""
    return {"created": len(stock_counts_schedule(now=timezone.now()))}
