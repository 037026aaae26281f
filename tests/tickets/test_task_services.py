from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from events.models import Event
from events.services import notifications_fan_out, notifications_send_pending
from tests.base import Personas
from tickets.models import TASK_TRANSITIONS, TaskStatus
from tickets.task_services import task_close, task_create, task_reopen, task_transition

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def deliver() -> None:
    notifications_fan_out(now=NOW, limit=100)
    notifications_send_pending(now=NOW, limit=100)


def test_it_creates_a_task_with_an_event(personas: Personas) -> None:
    task = task_create(title="Check disks", assignee=personas.jr, actor=personas.head, now=NOW)
    assert task.status == TaskStatus.OPEN
    assert task.creator == personas.head
    event = Event.objects.get(object_id=task.pk, kind="task.created")
    assert (event.actor, event.to_state, event.created_at) == (personas.head, "open", NOW)


def test_it_tells_the_assignee_of_a_task_someone_else_gave(personas: Personas) -> None:
    task_create(title="Check disks", assignee=personas.jr, actor=personas.head, now=NOW)
    task_create(title="Note to self", assignee=personas.jr, actor=personas.jr, now=NOW)
    deliver()
    assert [m.to for m in mail.outbox] == [[personas.jr.email]]
    assert "Check disks" in mail.outbox[0].subject


def test_it_notifies_the_creator_when_the_task_is_closed(personas: Personas) -> None:
    task = task_create(title="Renew cert", assignee=personas.jr, actor=personas.head, now=NOW)
    deliver()
    mail.outbox.clear()
    task_close(task=task, actor=personas.jr, now=NOW + timedelta(hours=1), remark="Done, chain ok")
    deliver()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [personas.head.email]
    assert "Renew cert" in message.subject
    assert "Done, chain ok" in message.body
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert "Done, chain ok" in html


def test_it_does_not_mail_a_creator_who_closes_their_own_task(personas: Personas) -> None:
    task = task_create(title="Mine", assignee=personas.jr, actor=personas.jr, now=NOW)
    task_close(task=task, actor=personas.jr, now=NOW)
    deliver()
    assert mail.outbox == []


def test_it_refuses_a_transition_outside_the_table(personas: Personas) -> None:
    task = task_create(title="T", assignee=personas.jr, actor=personas.head, now=NOW)
    assert TaskStatus.OPEN not in TASK_TRANSITIONS[TaskStatus.OPEN]
    with pytest.raises(ValidationError):
        task_transition(task=task, to=TaskStatus.OPEN, actor=personas.jr, now=NOW)
    task_close(task=task, actor=personas.jr, now=NOW)
    with pytest.raises(ValidationError):
        task_close(task=task, actor=personas.jr, now=NOW)
    assert Event.objects.filter(object_id=task.pk, kind="task.closed").count() == 1


def test_it_reopens_a_closed_task_and_clears_the_remark(personas: Personas) -> None:
    task = task_create(title="T", assignee=personas.jr, actor=personas.head, now=NOW)
    task_close(task=task, actor=personas.jr, now=NOW, remark="x")
    task = task_reopen(task=task, actor=personas.jr, now=NOW)
    assert (task.status, task.closed_at, task.closing_remark) == ("open", None, "")


def test_only_assignee_creator_or_a_manager_may_close(personas: Personas) -> None:
    task = task_create(title="T", assignee=personas.jr, actor=personas.cm, now=NOW)
    with pytest.raises(PermissionDenied):
        task_close(task=task, actor=personas.sr, now=NOW)
    task_close(task=task, actor=personas.head, now=NOW)  # head of department may
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED


def test_a_task_with_open_subtasks_cannot_be_closed(personas: Personas) -> None:
    parent = task_create(title="Move cluster", assignee=personas.sr, actor=personas.head, now=NOW)
    sub = task_create(
        title="Test restore", assignee=personas.jr, actor=personas.sr, parent=parent, now=NOW
    )
    with pytest.raises(ValidationError, match="subtasks"):
        task_close(task=parent, actor=personas.sr, now=NOW)
    task_close(task=sub, actor=personas.jr, now=NOW)
    task_close(task=parent, actor=personas.sr, now=NOW)


def test_subtasks_hang_only_under_open_tasks(personas: Personas) -> None:
    parent = task_create(title="P", assignee=personas.sr, actor=personas.head, now=NOW)
    task_close(task=parent, actor=personas.sr, now=NOW)
    with pytest.raises(ValidationError):
        task_create(title="S", assignee=personas.jr, actor=personas.sr, parent=parent, now=NOW)


def test_tasks_go_to_staff_only(personas: Personas) -> None:
    with pytest.raises(ValidationError, match="staff"):
        task_create(title="T", assignee=personas.customer_user, actor=personas.head, now=NOW)
    with pytest.raises(ValidationError):
        task_create(title="  ", assignee=personas.jr, actor=personas.head, now=NOW)


def test_a_task_links_to_the_object_it_belongs_to(personas: Personas) -> None:
    task = task_create(
        title="Call back",
        assignee=personas.jr,
        actor=personas.head,
        link=personas.customer,
        now=NOW,
    )
    task.refresh_from_db()
    assert task.link == personas.customer
