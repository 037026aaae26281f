from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One row per change of state: the object's history, the audit trail and
    the notification outbox at once (`processed_at` is NULL until the
    notifications it causes have been written)."""

    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Who acted, kept even when the user is deleted; "api:<token>" or "system".
    actor_label = models.CharField(_("actor"), max_length=150)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    obj = GenericForeignKey("content_type", "object_id")
    object_ref = models.CharField(_("object"), max_length=120)
    kind = models.CharField(_("kind"), max_length=60)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "id"]
        indexes = [
            # history_of(obj): an object's events in time order.
            models.Index(
                fields=["content_type", "object_id", "created_at"], name="event_object_time_idx"
            ),
            # notifications_fan_out(): the outbox, only unprocessed rows indexed.
            models.Index(
                fields=["id"], condition=Q(processed_at__isnull=True), name="event_outbox_idx"
            ),
            # audit views and reports filter by kind over a period.
            models.Index(fields=["kind", "created_at"], name="event_kind_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_ref} {self.kind}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Notification(models.Model):
    """One mail to one recipient, written from an event; sent exactly once by
    the sender task, which claims it with a conditional UPDATE."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    recipient = models.EmailField(_("recipient"))
    template = models.CharField(_("template"), max_length=80)
    context = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"))
    claimed_at = models.DateTimeField(null=True, blank=True)
    # After a failed attempt the next one waits (backing off), so a mail
    # server that is down is not hammered on every sweep.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["id"]
        constraints = [
            # An event notifies each recipient of each template once, even
            # when two fan-outs race.
            models.UniqueConstraint(
                fields=["event", "recipient", "template"], name="notification_once_per_event"
            ),
        ]
        indexes = [
            # notifications_send_pending(): only unsent rows are indexed.
            models.Index(
                fields=["status", "id"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient}"
