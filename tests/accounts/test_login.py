from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from events.tasks import send_notifications
from tests.base import Personas, make_personas

PASSWORD = "correct horse battery"


@pytest.fixture
def people(db: None) -> Personas:
    return make_personas(password=PASSWORD)


def login(client: Client, username: str, password: str) -> int:
    return client.post("/accounts/login/", {"username": username, "password": password}).status_code


def test_staff_land_on_their_overview_and_customers_on_the_portal(people: Personas) -> None:
    staff = Client()
    response = staff.post("/accounts/login/", {"username": "jr", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "My open tasks" in response.content.decode()
    customer = Client()
    response = customer.post(
        "/accounts/login/", {"username": "customer1", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/portal/"
    assert "Hoogendijk Logistiek" in response.content.decode()


def test_a_wrong_password_shows_a_form_error(people: Personas, client: Client) -> None:
    response = client.post("/accounts/login/", {"username": "jr", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_repeated_failures_lock_the_account_for_a_while(people: Personas) -> None:
    client = Client()
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=UTC), tick=False) as clock:
        for _ in range(3):
            assert login(client, "jr", "guess") == 200
        # Even the right password is refused while locked.
        assert login(client, "jr", PASSWORD) == 429
        assert "_auth_user_id" not in client.session
        # Another user from another address is not affected.
        other = Client(REMOTE_ADDR="10.9.9.9")
        assert login(other, "customer1", PASSWORD) == 302
        clock.shift(timedelta(seconds=601))
        assert login(client, "jr", PASSWORD) == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_a_success_clears_earlier_failures(people: Personas) -> None:
    client = Client()
    login(client, "jr", "guess")
    login(client, "jr", "guess")
    assert login(client, "jr", PASSWORD) == 302
    client.logout()
    login(client, "jr", "guess")
    login(client, "jr", "guess")
    assert login(client, "jr", PASSWORD) == 302


def test_logging_in_issues_a_new_session_key(people: Personas, client: Client) -> None:
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    login(client, "jr", PASSWORD)
    assert client.session.session_key != before


def test_logout_is_a_post_and_ends_the_session(people: Personas, client: Client) -> None:
    login(client, "jr", PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_password_reset_goes_through_the_outbox_and_works(people: Personas, client: Client) -> None:
    response = client.post("/accounts/password-reset/", {"email": "jr@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []  # queued, not sent inside the request
    send_notifications()
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/reset/\S+/", str(mail.outbox[0].body))
    assert link is not None
    path = link.group(0).split("localhost:8000", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    new = "a much longer new secret"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password saved" in done.content.decode()
    assert login(Client(), "jr", new) == 302


def test_password_reset_does_not_reveal_unknown_addresses(people: Personas, client: Client) -> None:
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    send_notifications()
    assert mail.outbox == []
