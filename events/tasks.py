from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from events.services import notifications_fan_out, notifications_send_pending


@shared_task(name="events.send_notifications")
def send_notifications() -> dict[str, int]:
    """The mail sender: writes notifications for new events and sends the
    unsent ones. Safe to run in several workers at once and to run again."""
    now = timezone.now()
    batch = settings.NOTIFICATION_BATCH_SIZE
    written = notifications_fan_out(now=now, limit=batch)
    sent = notifications_send_pending(now=now, limit=batch)
    return {"written": written, "sent": sent}
