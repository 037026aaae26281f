"""Reads of tickets and tasks that depend on who asks."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from tickets.models import Task, TaskStatus


def tasks_visible_to(user: Any) -> QuerySet[Task]:
    """Staff see every task (work is shared and handed over); nobody else any."""
    if not getattr(user, "is_staff", False):
        return Task.objects.none()
    return Task.objects.select_related("assignee", "creator", "parent", "link_type").annotate(
        open_subtasks=Count("subtasks", filter=Q(subtasks__status=TaskStatus.OPEN))
    )


def task_box(*, user: Any, status: str = TaskStatus.OPEN) -> QuerySet[Task]:
    """A person's own task box, due first (no due date last), then oldest."""
    return (
        tasks_visible_to(user)
        .filter(assignee=user, status=status)
        .order_by("due_date", "created_at")
    )


def task_get(*, user: Any, public_id: str | uuid.UUID) -> Task:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404("No such task") from None
    task = tasks_visible_to(user).filter(public_id=key).first()
    if task is None:
        raise Http404("No such task")
    return task
