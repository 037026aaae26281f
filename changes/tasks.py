from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from changes.cab import cab_meeting_prepare


@shared_task(name="changes.prepare_cab_meeting")
def prepare_cab_meeting() -> dict[str, int | bool]:
    """Every hour: the next CAB meeting exists, every major change waiting for
    an agenda is on one, and the day before, the agenda goes out (once)."""
    meeting = cab_meeting_prepare(now=timezone.now())
    return {"meeting": meeting.pk, "agenda_sent": meeting.agenda_sent_at is not None}
