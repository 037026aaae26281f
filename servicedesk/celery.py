"""The Celery app and the one beat schedule.

Every entry carries `expires` so a beat tick that could not be delivered in
time is dropped instead of piling up behind a stopped worker; the tasks are
idempotent sweepers, so the next tick does the work.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

app = Celery("servicedesk", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    timezone="Europe/Amsterdam",
    enable_utc=True,
    # A task is acknowledged only after it ran, so a killed worker's task is
    # redelivered; every task is idempotent, so running it again is harmless.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    result_expires=3600,
    broker_connection_retry_on_startup=True,
)

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "send-notifications": {
        "task": "events.send_notifications",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "sweep-sla": {
        "task": "tickets.sweep_sla",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "close-resolved-tickets": {
        "task": "tickets.close_resolved",
        "schedule": crontab(minute=15),
        "options": {"expires": 3000},
    },
    # 09:00 Europe/Amsterdam and every quarter after it: the first run makes
    # the day's checks, later ones catch up after downtime and mark overdue runs.
    "create-backup-checks": {
        "task": "backups.create_daily_checks",
        "schedule": crontab(minute="*/15", hour=f"{settings.BACKUP_CHECK_HOUR}-23"),
        "options": {"expires": 600},
    },
    "follow-up-backup-problems": {
        "task": "backups.follow_up_problems",
        "schedule": crontab(minute="7-59/15"),
        "options": {"expires": 600},
    },
    "send-backup-report": {
        "task": "backups.send_daily_report",
        "schedule": crontab(minute="*/15", hour=f"{settings.BACKUP_REPORT_HOUR}-23"),
        "options": {"expires": 600},
    },
    "prepare-cab-meeting": {
        "task": "changes.prepare_cab_meeting",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    # Nightly: keeps last month's KPIs. Only the first run of a month stores
    # anything (a unique constraint on the month); later nights catch up after
    # downtime and are otherwise no-ops.
    "snapshot-month": {
        "task": "reports.snapshot_month",
        "schedule": crontab(minute=30, hour=1),
        "options": {"expires": 3600},
    },
    # Every morning: each location with stock gets its monthly count (once a
    # month; a missed morning is caught up the next).
    "schedule-stock-counts": {
        "task": "inventory.schedule_stock_counts",
        "schedule": crontab(minute=20, hour=7),
        "options": {"expires": 3600},
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()


@app.task(name="servicedesk.ping")
def ping(payload: str) -> dict[str, str]:
    """Round-trip check for a worker: answers with the payload and its own name."""
    return {"payload": payload, "worker": os.environ.get("HOSTNAME", "") or os.uname().nodename}
