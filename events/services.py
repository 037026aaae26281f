"""Writing events and delivering the notifications they cause."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import translation

from events.models import Event, Notification, NotificationStatus
from events.notify import has_notifier, mails_for
from servicedesk.lib.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "username", "") or actor)


def event_record(
    *,
    obj: models.Model,
    kind: str,
    actor: Any,
    now: datetime,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Write the event row for a change of `obj`. Call inside the service's
    transaction, so the event exists exactly when the change does."""
    notifies = has_notifier(kind)
    event = Event.objects.create(
        created_at=now,
        actor=actor if getattr(actor, "_meta", None) is not None else None,
        actor_label=actor_label(actor)[:150],
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        object_ref=str(getattr(obj, "reference", None) or obj)[:120],
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        processed_at=None if notifies else now,
    )
    if notifies:
        from events.tasks import send_notifications

        enqueue_on_commit(send_notifications)
    return event


def events_record_many(
    *,
    model: type[models.Model],
    rows: list[tuple[int, str, dict[str, Any]]],
    kind: str,
    actor: Any,
    now: datetime,
) -> int:
    """The same kind of event for many objects of one model in one INSERT:
    `rows` holds (pk, reference, data) per object. For the sweepers, which
    announce thousands of due moments at once; call inside their transaction."""
    if not rows:
        return 0
    notifies = has_notifier(kind)
    content_type = ContentType.objects.get_for_model(model)
    label = actor_label(actor)[:150]
    Event.objects.bulk_create(
        [
            Event(
                created_at=now,
                actor=actor if getattr(actor, "_meta", None) is not None else None,
                actor_label=label,
                content_type=content_type,
                object_id=pk,
                object_ref=reference[:120],
                kind=kind,
                data=data,
                processed_at=None if notifies else now,
            )
            for pk, reference, data in rows
        ],
        batch_size=1000,
    )
    if notifies:
        from events.tasks import send_notifications

        enqueue_on_commit(send_notifications)
    return len(rows)


def _audit_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def fields_apply(
    obj: models.Model, values: dict[str, Any], *, created: bool
) -> dict[str, list[Any]]:
    """Set `values` on `obj` and return what changed as {field: [old, new]}
    (JSON-safe), the field-level history an audit event carries. On a new
    object every given field counts as changed from None. Secrets must not be
    passed here: the history is readable by everyone who may see the object."""
    changes: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = None if created else getattr(obj, name)
        if created or old != value:
            changes[name] = [_audit_value(old), _audit_value(value)]
        setattr(obj, name, value)
    return changes


def history_of(obj: models.Model) -> models.QuerySet[Event]:
    return Event.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")


def notifications_fan_out(*, now: datetime, limit: int) -> int:
    """Turn unprocessed events into notification rows. Each event is claimed by
    a conditional UPDATE inside the same transaction that writes its
    notifications: a second worker's UPDATE matches nothing, and a worker that
    dies midway rolls back both, leaving the event for the next run."""
    written = 0
    pending = list(
        Event.objects.filter(processed_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for event_id in pending:
        with transaction.atomic():
            if not Event.objects.filter(pk=event_id, processed_at__isnull=True).update(
                processed_at=now
            ):
                continue
            event = Event.objects.select_related("actor", "content_type").get(pk=event_id)
            rows = [
                Notification(
                    event=event,
                    recipient=mail.recipient,
                    template=mail.template,
                    context=mail.context,
                    language=mail.language,
                    created_at=now,
                )
                for mail in mails_for(event)
            ]
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            written += len(rows)
    return written


def notification_queue(
    *, recipient: str, template: str, context: dict[str, Any], now: datetime, language: str = ""
) -> Notification:
    """A mail that belongs to no event (a password reset, a test mail)."""
    notification = Notification.objects.create(
        recipient=recipient,
        template=template,
        context=context,
        language=language or settings.LANGUAGE_CODE,
        created_at=now,
    )
    from events.tasks import send_notifications

    enqueue_on_commit(send_notifications)
    return notification


def _claimable(now: datetime) -> Q:
    stale = now - settings.NOTIFICATION_CLAIM_TIMEOUT
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (Q(status=NotificationStatus.PENDING) & due) | Q(
        status=NotificationStatus.SENDING, claimed_at__lt=stale
    )


def notification_render(notification: Notification) -> EmailMultiAlternatives:
    context = {**notification.context, "site_url": settings.SITE_URL}
    name = f"emails/{notification.template}"
    with translation.override(notification.language):
        subject = render_to_string(f"{name}-subject.txt", context).strip().replace("\n", " ")
        text = render_to_string(f"{name}-body.txt", context)
        html = render_to_string(f"{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers={
            # RFC 3834: other auto-responders must not answer these mails.
            "Auto-Submitted": "auto-generated",
            "Message-ID": notification_message_id(notification),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_message_id(notification: Notification) -> str:
    """The same Message-ID every time a notification is sent: should a sender
    die after the mail server accepted a mail but before it was marked sent,
    the mail goes out again after the claim timeout, and the copy carries the
    same Message-ID, so a receiving system can drop it."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<notification.{notification.pk}.{int(notification.created_at.timestamp())}@{domain}>"


def notifications_send_pending(*, now: datetime, limit: int) -> int:
    """Send unsent notifications. Each is claimed by a conditional UPDATE (one
    row updated means this worker owns it), sent, then marked sent. A claim
    left by a worker that died is handed out again after the claim timeout."""
    sent = 0
    candidates = list(
        Notification.objects.filter(_claimable(now))
        .order_by("id")
        .values_list("id", "status", "claimed_at")[:limit]
    )
    for notification_id, status, claimed_at in candidates:
        claimed = Notification.objects.filter(
            pk=notification_id, status=status, claimed_at=claimed_at
        ).update(status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        if not claimed:
            continue
        notification = Notification.objects.get(pk=notification_id)
        try:
            notification_render(notification).send()
        except Exception as error:
            logger.warning("notification %s not sent: %s", notification_id, error)
            # Only while the claim is still ours: a sender that took a stale
            # claim over may have sent the mail meanwhile, and that must not
            # be undone (it would be sent yet again).
            Notification.objects.filter(
                pk=notification_id, status=NotificationStatus.SENDING, claimed_at=now
            ).update(
                status=NotificationStatus.FAILED
                if notification.attempts >= MAX_ATTEMPTS
                else NotificationStatus.PENDING,
                claimed_at=None,
                next_attempt_at=now + timedelta(minutes=2**notification.attempts),
                last_error=str(error)[:2000],
            )
            continue
        Notification.objects.filter(pk=notification_id).update(
            status=NotificationStatus.SENT, sent_at=now
        )
        sent += 1
    return sent
