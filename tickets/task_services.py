"""Writes for tasks ("taken"): the personal task box of every engineer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from events.services import event_record
from tickets.models import TASK_TRANSITIONS, Task, TaskStatus


@transaction.atomic
def task_create(
    *,
    title: str,
    assignee: User,
    actor: Any,
    now: datetime,
    description: str = "",
    due_date: date | None = None,
    parent: Task | None = None,
    link: models.Model | None = None,
) -> Task:
    if not title.strip():
        raise ValidationError({"title": _("A task needs a title.")})
    if not assignee.is_staff or not assignee.is_active:
        raise ValidationError({"assignee": _("Tasks go to active staff members only.")})
    if parent is not None:
        # Lock the parent: a close of the parent racing this create must not
        # leave an open subtask under a closed task.
        parent = Task.objects.select_for_update().get(pk=parent.pk)
    if parent is not None and parent.status != TaskStatus.OPEN:
        raise ValidationError({"parent": _("A subtask can only be added to an open task.")})
    task = Task.objects.create(
        title=title.strip(),
        description=description,
        assignee=assignee,
        creator=actor if isinstance(actor, User) else None,
        due_date=due_date,
        parent=parent,
        link_type=ContentType.objects.get_for_model(link) if link is not None else None,
        link_id=link.pk if link is not None else None,
        created_at=now,
        updated_at=now,
    )
    event_record(
        obj=task,
        kind="task.created",
        actor=actor,
        now=now,
        to_state=TaskStatus.OPEN,
        data={"assignee": assignee.username},
    )
    return task


def task_may_change(*, task: Task, user: Any) -> bool:
    """The assignee and the creator may close or reopen a task; so may anyone
    whose role grants changing every task (heads, managers), and an integration
    client whose token has the tasks:write scope."""
    return bool(
        getattr(user, "is_integration", False)
        or getattr(user, "pk", None) in (task.assignee_id, task.creator_id)
        or (getattr(user, "is_staff", False) and user.has_perm("tickets.change_task"))
    )


@transaction.atomic
def task_transition(*, task: Task, to: str, actor: Any, now: datetime, remark: str = "") -> Task:
    """The one place a task changes status. Locks the row so two closes in
    parallel give one event and one notification."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if not task_may_change(task=task, user=actor):
        raise PermissionDenied(_("Only the assignee or the creator can change this task."))
    if to not in TASK_TRANSITIONS.get(task.status, set()):
        raise ValidationError(
            {
                "status": _("A %(from)s task cannot become %(to)s.")
                % {"from": TaskStatus(task.status).label, "to": TaskStatus(to).label}
            }
        )
    if to == TaskStatus.CLOSED and task.subtasks.filter(status=TaskStatus.OPEN).exists():
        raise ValidationError({"status": _("Close the open subtasks first.")})
    from_state = task.status
    task.status = to
    task.updated_at = now
    if to == TaskStatus.CLOSED:
        task.closed_at = now
        task.closing_remark = remark
    else:
        task.closed_at = None
        task.closing_remark = ""
    task.save(update_fields=["status", "closed_at", "closing_remark", "updated_at"])
    event_record(
        obj=task,
        kind=f"task.{'closed' if to == TaskStatus.CLOSED else 'reopened'}",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
        reason=remark,
    )
    return task


def task_close(*, task: Task, actor: Any, now: datetime, remark: str = "") -> Task:
    return task_transition(task=task, to=TaskStatus.CLOSED, actor=actor, now=now, remark=remark)


def task_reopen(*, task: Task, actor: Any, now: datetime) -> Task:
    return task_transition(task=task, to=TaskStatus.OPEN, actor=actor, now=now)
