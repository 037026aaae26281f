from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import IdempotencyRecord
from tests.base import Personas, make_personas
from tickets.models import Task
from tickets.task_services import task_create

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_list_and_close_a_task(personas: Personas) -> None:
    client = as_user(personas.head)
    created = client.post(
        "/api/v1/tasks/",
        {"title": "Patch mail01", "assignee": "jr", "due_date": "2026-12-01"},
        format="json",
    )
    assert created.status_code == 201, created.content
    task_id = created.json()["id"]
    assert created.json()["creator"] == "head"
    listed = as_user(personas.jr).get("/api/v1/tasks/?assignee=jr&status=open").json()
    assert [t["id"] for t in listed["results"]] == [task_id]
    closed = as_user(personas.jr).post(
        f"/api/v1/tasks/{task_id}/close/", {"remark": "ok"}, format="json"
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["closing_remark"] == "ok"
    again = as_user(personas.jr).post(f"/api/v1/tasks/{task_id}/close/", {}, format="json")
    assert again.status_code == 400 and "status" in again.json()
    reopened = as_user(personas.jr).post(f"/api/v1/tasks/{task_id}/reopen/")
    assert reopened.json()["status"] == "open"


def test_bad_task_input_names_the_field(personas: Personas) -> None:
    response = as_user(personas.head).post(
        "/api/v1/tasks/",
        {"title": "", "assignee": "customer1", "due_date": "tomorrow"},
        format="json",
    )
    assert response.status_code == 400
    assert {"title", "assignee", "due_date"} <= response.json().keys()
    assert not Task.objects.exists()


def test_an_unknown_task_is_404_and_customers_see_none(personas: Personas) -> None:
    task = task_create(title="Internal", assignee=personas.jr, actor=personas.head, now=NOW)
    assert as_user(personas.jr).get("/api/v1/tasks/not-a-uuid/").status_code == 404
    customer = as_user(personas.customer_user)
    assert customer.get("/api/v1/tasks/").status_code == 403
    assert customer.get(f"/api/v1/tasks/{task.public_id}/").status_code == 403


def test_the_same_idempotency_key_creates_once(personas: Personas) -> None:
    client = as_user(personas.head)
    body = {"title": "Once", "assignee": "jr"}
    first = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Task.objects.count() == 1
    other = client.post(
        "/api/v1/tasks/", {**body, "title": "Twice"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json()
    fresh = client.post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert fresh.status_code == 201
    assert Task.objects.count() == 2


def test_a_failed_request_does_not_use_up_its_key(personas: Personas) -> None:
    client = as_user(personas.head)
    bad = client.post("/api/v1/tasks/", {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    good = client.post(
        "/api/v1/tasks/",
        {"title": "Fixed", "assignee": "jr"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert good.status_code == 201
    assert IdempotencyRecord.objects.count() == 1


def test_keys_belong_to_their_caller(personas: Personas) -> None:
    body = {"title": "Same key", "assignee": "jr"}
    as_user(personas.head).post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    as_user(personas.itm).post("/api/v1/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert Task.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_one_task() -> None:
    personas = make_personas()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def post() -> None:
        try:
            client = as_user(personas.head)
            barrier.wait()
            response = client.post(
                "/api/v1/tasks/",
                {"title": "Race", "assignee": "jr"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="race-1",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201, 201, 201, 201]
    assert Task.objects.filter(title="Race").count() == 1
