from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from backups.services import (
    backup_checks_create,
    backup_checks_refresh,
    backup_problems_follow_up,
    daily_report_create,
)


@shared_task(name="backups.create_daily_checks")
def create_daily_checks() -> dict[str, int]:
    """From 09:00 on: today's check per responsibility group (once: a unique
    constraint), then lines whose run is overdue become missing. Beat runs it
    every quarter of an hour through the day, so a machine that was down at
    09:00 catches up on the next run."""
    now = timezone.now()
    created = backup_checks_create(now=now)
    missing = backup_checks_refresh(now=now)
    return {"created": len(created), "missing": missing}


@shared_task(name="backups.follow_up_problems")
def follow_up_problems() -> dict[str, int]:
    return backup_problems_follow_up(now=timezone.now())


@shared_task(name="backups.send_daily_report")
def send_daily_report() -> dict[str, bool]:
    return {"created": daily_report_create(now=timezone.now()) is not None}
