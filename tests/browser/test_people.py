"""What a person does in the browser: staff and customers log in and reach
their home pages, work the task box, switch language, reset a password."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail

from events.tasks import send_notifications
from tests.base import make_personas
from tickets.models import Task, TaskStatus
from tickets.task_services import task_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def log_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_engineer_works_the_task_box(page, live_server) -> None:
    personas = make_personas(password=PASSWORD)
    task = task_create(
        title="Renew the portal certificate", assignee=personas.jr, actor=personas.head, now=NOW
    )
    log_in(page, live_server, "jr")
    page.get_by_role("heading", name="My open tasks").wait_for()
    assert page.get_by_role("link", name="Renew the portal certificate").is_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    page.get_by_role("heading", name="My tasks", level=1).wait_for()
    # Close it from the list: HTMX swaps the row, the page does not reload.
    page.evaluate("window.__notReloaded = true")
    row = page.locator(f"#task-{task.public_id}")
    row.get_by_role("button", name="Close").click()
    row.locator(".badge.closed").wait_for()
    assert page.evaluate("window.__notReloaded") is True
    task.refresh_from_db()
    assert task.status == TaskStatus.CLOSED

    # A new task with a missing title shows the form error.
    page.get_by_role("button", name="Create task").click()
    page.get_by_text("This field is required.").first.wait_for()
    page.get_by_label("Title").fill("Check the UPS batteries")
    page.get_by_label("Due date").fill("2026-12-01")
    page.get_by_role("button", name="Create task").click()
    page.get_by_role("heading", name=re.compile("Check the UPS batteries")).wait_for()

    # On the task page: add a subtask, then see it listed.
    page.get_by_text("Add a subtask").click()
    page.get_by_label("Title").fill("Order two batteries")
    page.get_by_role("button", name="Add subtask").click()
    page.get_by_role("link", name="Order two batteries").wait_for()
    assert Task.objects.get(title="Order two batteries").parent.title == "Check the UPS batteries"  # type: ignore[union-attr]


def test_staff_look_up_a_customer_in_dutch(page, live_server) -> None:
    make_personas(password=PASSWORD)
    log_in(page, live_server, "jr")
    page.get_by_role("button", name="Nederlands").click()
    page.get_by_role("heading", name="Mijn openstaande taken").wait_for()
    page.get_by_role("link", name="Klanten").click()
    page.get_by_label("Klanten zoeken").fill("koren")
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_role("link", name="2000").click()
    page.get_by_role("heading", name="2000 · Korenschoof").wait_for()
    assert page.get_by_text("customer2").is_visible()
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Portal users").wait_for()


def test_a_customer_reaches_the_portal_and_nothing_else(page, live_server) -> None:
    make_personas(password=PASSWORD)
    log_in(page, live_server, "customer1")
    page.get_by_role("heading", name="Welcome, Hoogendijk Logistiek").wait_for()
    assert "/portal/" in page.url
    assert page.get_by_text("Korenschoof").count() == 0
    response = page.goto(f"{live_server.url}/tasks/")
    assert response.status == 404
    page.get_by_role("heading", name="Not found").wait_for()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()


def test_a_forgotten_password_is_reset_by_mail(page, live_server) -> None:
    make_personas(password=PASSWORD)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("customer1@example.test")
    page.get_by_role("button", name="Send link").click()
    page.get_by_role("heading", name="Check your mail").wait_for()
    send_notifications()
    link = re.search(r"http://\S+/accounts/reset/\S+/", str(mail.outbox[-1].body))
    assert link is not None
    page.goto(live_server.url + link.group(0).split("localhost:8000", 1)[1])
    page.get_by_label("New password:", exact=True).fill("a brand new secret")
    page.get_by_label("New password confirmation:").fill("a brand new secret")
    page.get_by_role("button", name="Save password").click()
    page.get_by_role("heading", name="Password saved").wait_for()
    log_in(page, live_server, "customer1", "a brand new secret")
    page.get_by_role("heading", name="Welcome, Hoogendijk Logistiek").wait_for()
