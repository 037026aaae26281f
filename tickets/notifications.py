"""Mails caused by ticket and task events."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from events.models import Event
from events.notify import Mail, notifier
from tickets.models import Task


def _task_context(task: Task, event: Event) -> dict[str, str]:
    return {
        "title": task.title,
        "actor": event.actor_label,
        "remark": event.reason,
        "url": settings.SITE_URL + reverse("task-detail", args=[task.public_id]),
    }


@notifier("task.created")
def task_assigned(event: Event) -> list[Mail]:
    task = Task.objects.select_related("assignee").get(pk=event.object_id)
    if event.actor_id == task.assignee_id:
        return []
    return [
        Mail(
            recipient=task.assignee.email,
            template="task-assigned",
            context=_task_context(task, event),
            language=task.assignee.language or settings.LANGUAGE_CODE,
        )
    ]


@notifier("task.closed")
def task_closed(event: Event) -> list[Mail]:
    """Closing a task tells its creator, unless the creator closed it."""
    task = Task.objects.select_related("creator").get(pk=event.object_id)
    if task.creator is None or event.actor_id == task.creator_id:
        return []
    return [
        Mail(
            recipient=task.creator.email,
            template="task-closed",
            context=_task_context(task, event),
            language=task.creator.language or settings.LANGUAGE_CODE,
        )
    ]
