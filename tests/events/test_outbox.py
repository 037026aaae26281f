from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings

from events.models import Event, Notification, NotificationStatus
from events.services import (
    notification_render,
    notifications_fan_out,
    notifications_send_pending,
)
from events.tasks import send_notifications
from tests.base import Personas
from tickets.task_services import task_close, task_create

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def closed_task(personas: Personas) -> None:
    task = task_create(title="Renew cert", assignee=personas.jr, actor=personas.head, now=NOW)
    task_close(task=task, actor=personas.jr, now=NOW)


def test_an_event_without_notifier_is_processed_at_once(personas: Personas) -> None:
    task = task_create(title="Self", assignee=personas.jr, actor=personas.jr, now=NOW)
    from events.services import event_record

    event = event_record(obj=task, kind="task.noted", actor=personas.jr, now=NOW)
    assert event.processed_at == NOW


def test_fan_out_and_sending_run_twice_send_once(personas: Personas) -> None:
    closed_task(personas)
    assert notifications_fan_out(now=NOW, limit=10) == 2  # assigned + closed
    assert notifications_fan_out(now=NOW, limit=10) == 0
    assert notifications_send_pending(now=NOW, limit=10) == 2
    assert notifications_send_pending(now=NOW, limit=10) == 0
    assert len(mail.outbox) == 2
    assert not Event.objects.filter(processed_at__isnull=True).exists()


def test_the_task_runs_the_whole_outbox(personas: Personas) -> None:
    closed_task(personas)
    assert send_notifications() == {"written": 2, "sent": 2}
    assert send_notifications() == {"written": 0, "sent": 0}


def test_a_claim_held_by_another_sender_is_left_alone(personas: Personas) -> None:
    closed_task(personas)
    notifications_fan_out(now=NOW, limit=10)
    Notification.objects.update(status=NotificationStatus.SENDING, claimed_at=NOW)
    assert notifications_send_pending(now=NOW + timedelta(minutes=1), limit=10) == 0
    assert mail.outbox == []


def test_a_claim_of_a_dead_sender_is_taken_over_after_the_timeout(personas: Personas) -> None:
    closed_task(personas)
    notifications_fan_out(now=NOW, limit=10)
    Notification.objects.update(status=NotificationStatus.SENDING, claimed_at=NOW)
    later = NOW + timedelta(minutes=11)
    with override_settings(NOTIFICATION_CLAIM_TIMEOUT=timedelta(minutes=10)):
        assert notifications_send_pending(now=later, limit=10) == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_failed_send_backs_off_and_gives_up_after_five_attempts(personas: Personas) -> None:
    closed_task(personas)
    notifications_fan_out(now=NOW, limit=10)
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")
    ):
        assert notifications_send_pending(now=NOW, limit=10) == 0
        # Backing off: an immediate second sweep does not try again.
        assert notifications_send_pending(now=NOW, limit=10) == 0
        assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
        moment = NOW
        for _ in range(4):
            moment += timedelta(hours=1)
            notifications_send_pending(now=moment, limit=10)
    assert set(Notification.objects.values_list("status", flat=True)) == {"failed"}
    assert "smtp down" in Notification.objects.first().last_error  # type: ignore[union-attr]


def test_a_failed_send_leaves_alone_what_a_sender_that_took_over_the_claim_did(
    personas: Personas,
) -> None:
    closed_task(personas)
    notifications_fan_out(now=NOW, limit=10)
    first = Notification.objects.order_by("id")[0]
    later = NOW + timedelta(minutes=11)

    def hung_then_failed(*args: object, **kwargs: object) -> int:
        # Meanwhile the claim went stale; another sender took it over and sent.
        Notification.objects.filter(pk=first.pk).update(
            status=NotificationStatus.SENT, claimed_at=later, sent_at=later
        )
        raise OSError("connection reset")

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=hung_then_failed):
        assert notifications_send_pending(now=NOW, limit=1) == 0
    first.refresh_from_db()
    assert (first.status, first.sent_at) == (NotificationStatus.SENT, later)
    assert notifications_send_pending(now=later + timedelta(hours=1), limit=10) == 1
    assert len(mail.outbox) == 1  # the other notification; the first is not sent again


def test_a_notification_carries_the_same_message_id_every_time_it_is_sent(
    personas: Personas,
) -> None:
    closed_task(personas)
    notifications_fan_out(now=NOW, limit=10)
    first, second = Notification.objects.order_by("id")
    ids = [notification_render(n).message()["Message-ID"] for n in (first, second, first)]
    assert ids[0] == ids[2]
    assert ids[0].startswith(f"<notification.{first.pk}.{int(NOW.timestamp())}@")
    assert ids[1] != ids[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_mail_once() -> None:
    from tests.base import make_personas

    personas = make_personas()
    for index in range(20):
        task = task_create(title=f"T{index}", assignee=personas.jr, actor=personas.head, now=NOW)
        task_close(task=task, actor=personas.jr, now=NOW)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            send_notifications()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mail.outbox) == 40
    assert Notification.objects.count() == 40
    recipients = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert len(set(recipients)) == 40
