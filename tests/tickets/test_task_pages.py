from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.base import Personas
from tickets.models import Task, TaskStatus
from tickets.task_services import task_create

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_tasks_lists_only_my_open_tasks(personas: Personas) -> None:
    task_create(title="Mine to do", assignee=personas.jr, actor=personas.head, now=NOW)
    task_create(title="Someone else's", assignee=personas.sr, actor=personas.head, now=NOW)
    page = staff_client(personas.jr).get("/tasks/").content.decode()
    assert "Mine to do" in page
    assert "Someone else" not in page


def test_my_tasks_runs_a_fixed_number_of_queries(personas: Personas) -> None:
    client = staff_client(personas.jr)
    task_create(title="One", assignee=personas.jr, actor=personas.head, now=NOW)
    with CaptureQueriesContext(connection) as one:
        client.get("/tasks/")
    for index in range(15):
        parent = task_create(title=f"T{index}", assignee=personas.jr, actor=personas.head, now=NOW)
        task_create(
            title=f"S{index}", assignee=personas.sr, actor=personas.jr, parent=parent, now=NOW
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/tasks/")
    assert "1 open subtask" in response.content.decode()
    assert len(many) == len(one)


def test_creating_a_task_from_the_page(personas: Personas) -> None:
    client = staff_client(personas.head)
    response = client.post(
        "/tasks/", {"title": "Replace disk", "assignee": "jr", "due_date": "2026-12-01"}
    )
    task = Task.objects.get(title="Replace disk")
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.public_id}/"
    assert (task.assignee, task.creator) == (personas.jr, personas.head)


def test_a_bad_task_form_shows_errors_and_stores_nothing(personas: Personas) -> None:
    client = staff_client(personas.head)
    response = client.post("/tasks/", {"title": "", "assignee": "customer1", "due_date": "31-31"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice." in body
    assert "Enter a valid date." in body
    assert not Task.objects.exists()


def test_closing_from_the_task_box_swaps_the_row(personas: Personas) -> None:
    task = task_create(title="Swap me", assignee=personas.jr, actor=personas.head, now=NOW)
    response = staff_client(personas.jr).post(
        f"/tasks/{task.public_id}/close/", {"remark": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="task-{task.public_id}"')
    assert "closed" in body
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED


def test_closing_with_open_subtasks_shows_the_reason(personas: Personas) -> None:
    parent = task_create(title="Parent", assignee=personas.jr, actor=personas.head, now=NOW)
    task_create(title="Child", assignee=personas.sr, actor=personas.jr, parent=parent, now=NOW)
    client = staff_client(personas.jr)
    row = client.post(f"/tasks/{parent.public_id}/close/", HTTP_HX_REQUEST="true")
    assert "Close the open subtasks first." in row.content.decode()
    page = client.post(f"/tasks/{parent.public_id}/close/", follow=True)
    assert "Close the open subtasks first." in page.content.decode()
    parent.refresh_from_db()
    assert parent.status == TaskStatus.OPEN


def test_task_detail_shows_subtasks_history_and_takes_a_subtask(personas: Personas) -> None:
    task = task_create(title="Move mail", assignee=personas.sr, actor=personas.head, now=NOW)
    client = staff_client(personas.sr)
    response = client.post(f"/tasks/{task.public_id}/", {"title": "Restore test", "assignee": "jr"})
    assert response.status_code == 302
    page = client.get(f"/tasks/{task.public_id}/").content.decode()
    assert "Restore test" in page
    assert "task.created" in page


def test_reopening_an_open_task_is_a_message_not_an_error(personas: Personas) -> None:
    task = task_create(title="Open", assignee=personas.jr, actor=personas.head, now=NOW)
    response = staff_client(personas.jr).post(f"/tasks/{task.public_id}/reopen/", follow=True)
    assert response.status_code == 200
    assert "cannot become" in response.content.decode()


def test_an_engineer_cannot_close_a_colleagues_task(personas: Personas) -> None:
    task = task_create(title="Not yours", assignee=personas.sr, actor=personas.head, now=NOW)
    response = staff_client(personas.jr).post(f"/tasks/{task.public_id}/close/")
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_customers_and_strangers_never_reach_staff_pages(personas: Personas) -> None:
    task = task_create(title="Internal", assignee=personas.jr, actor=personas.head, now=NOW)
    customer = staff_client(personas.customer_user)
    for url in ("/tasks/", f"/tasks/{task.public_id}/", "/customers/", "/customers/1000/"):
        assert customer.get(url).status_code == 404, url
        assert Client().get(url).status_code == 302, url
    assert staff_client(personas.jr).get("/tasks/not-a-uuid/").status_code == 404
