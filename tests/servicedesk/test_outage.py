"""A database that does not answer is a 503 with Retry-After (the request
changed nothing and may be sent again), never a 500; other failures stay 500."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from tests.base import Personas


def _failing(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fail(**kwargs: object) -> None:
        raise error

    monkeypatch.setattr("tickets.ticket_views.queue_tickets", fail)
    monkeypatch.setattr("tickets.api.tickets_visible_to", lambda user: fail())


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection unexpectedly"), InterfaceError("closed")],
)
def test_an_unreachable_database_is_a_503_to_retry(
    personas: Personas, token_client, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    _failing(monkeypatch, error)
    browser = Client(raise_request_exception=False)
    browser.force_login(personas.jr)
    page = browser.get("/queue/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "briefly unavailable" in page.content.decode()
    api = token_client("tickets:read")
    api.raise_request_exception = False
    answer = api.get("/api/v1/tickets/")
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert "briefly unavailable" in answer.json()["detail"]


def test_any_other_failure_stays_a_500(
    personas: Personas, token_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing(monkeypatch, RuntimeError("a bug"))
    browser = Client(raise_request_exception=False)
    browser.force_login(personas.jr)
    assert browser.get("/queue/").status_code == 500
    api = token_client("tickets:read")
    api.raise_request_exception = False
    answer = api.get("/api/v1/tickets/")
    assert answer.status_code == 500 and "Retry-After" not in answer
    assert answer.json() == {"detail": "Server error."}
