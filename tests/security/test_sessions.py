"""Session fixation: a session id known before logging in (one the visitor
had, or one an attacker planted) is worthless after it. Logging in issues a
new id and deletes the old session; logging out deletes the session, so a
copied cookie opens nothing. For staff, portal users and the admin's login."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from tests.base import Personas
from tests.security.pages import PASSWORD, superuser, with_password

PLANTED = "attackerchosensessionid0123456789"


def session_id(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def opens(session: str, path: str) -> bool:
    """Whether a browser holding only this cookie gets the page."""
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = session
    return other.get(path).status_code == 200


@pytest.mark.parametrize(
    ("who", "login_path", "home"),
    [
        ("staff", "/accounts/login/", "/tasks/"),
        ("customer", "/accounts/login/", "/portal/"),
        ("admin", "/admin/login/", "/admin/"),
    ],
)
def test_logging_in_replaces_the_session_and_logging_out_ends_it(
    people: Personas, who: str, login_path: str, home: str
) -> None:
    user = with_password(
        {"staff": people.jr, "customer": people.customer_user, "admin": superuser()}[who]
    )
    client = Client()
    # The visitor's session before logging in (the language choice keeps one).
    client.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    before = client.session.session_key
    assert before and Session.objects.filter(session_key=before).exists()
    response = client.post(login_path, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    after = session_id(client)
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert not opens(before, home) and opens(after, home)
    client.post("/admin/logout/" if who == "admin" else "/accounts/logout/")
    assert not Session.objects.filter(session_key=after).exists()
    assert not opens(after, home)


def test_a_planted_session_id_is_never_adopted(people: Personas) -> None:
    with_password(people.jr)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = PLANTED
    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "jr", "password": PASSWORD})
    assert response.status_code == 302
    assert session_id(client) != PLANTED
    assert not Session.objects.filter(session_key=PLANTED).exists()
    assert not opens(PLANTED, "/tasks/")


def test_the_session_cookie_is_out_of_reach_of_scripts_and_other_sites() -> None:
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
