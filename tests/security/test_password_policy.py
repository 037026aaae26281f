"""The password policy (AUTH_PASSWORD_VALIDATORS: at least 10 characters, not
a common password, not only digits, not like the user's name or address)
holds on every form that sets a password: the reset link, the admin's new
user and set-password forms and a staff member's own password change."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from tests.base import Personas
from tests.security.pages import superuser

OLD = "correct horse battery"
GOOD = "Lantern-orbit-97-quietly"
# Refused, and why (a phrase of the validator's message).
BAD = {
    "Kq7#zpW2": "too short",
    "password1234": "too common",
    "20261125123456": "entirely numeric",
    "customer1example": "too similar",
}


def with_password(user: User, password: str = OLD) -> User:
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def still_old(user: User) -> bool:
    user.refresh_from_db()
    return user.check_password(OLD)


def test_the_validators_refuse_each_kind_of_weak_password(people: Personas) -> None:
    for password, reason in BAD.items():
        with pytest.raises(ValidationError, match=reason):
            validate_password(password, people.customer_user)
    validate_password(GOOD, people.customer_user)


def test_the_reset_link_refuses_weak_passwords(people: Personas) -> None:
    user = with_password(people.customer_user)
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    form = client.get(f"/accounts/reset/{uid}/{token}/", follow=True)
    url = form.redirect_chain[-1][0]
    for password, reason in BAD.items():
        response = client.post(url, {"new_password1": password, "new_password2": password})
        assert response.status_code == 200
        assert reason in response.content.decode(), password
        assert still_old(user)
    done = client.post(url, {"new_password1": GOOD, "new_password2": GOOD})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD)


def _error_shown(response: object, reason: str) -> bool:
    body = re.sub(r"\s+", " ", response.content.decode())  # type: ignore[attr-defined]
    return response.status_code == 200 and reason in body  # type: ignore[attr-defined]


def test_the_admin_refuses_weak_passwords_for_new_and_existing_users(people: Personas) -> None:
    client = Client()
    client.force_login(superuser())
    user = with_password(people.customer_user)
    for password, reason in BAD.items():
        new = client.post(
            "/admin/accounts/user/add/",
            {
                "username": "customer1example",
                "usable_password": "true",
                "password1": password,
                "password2": password,
            },
        )
        assert _error_shown(new, reason), password
        assert not User.objects.filter(username="customer1example").exists()
        existing = client.post(
            f"/admin/accounts/user/{user.pk}/password/",
            {"usable_password": "true", "password1": password, "password2": password},
        )
        assert _error_shown(existing, reason), password
        assert still_old(user)
    created = client.post(
        "/admin/accounts/user/add/",
        {"username": "newcomer", "usable_password": "true", "password1": GOOD, "password2": GOOD},
    )
    assert created.status_code == 302
    assert User.objects.get(username="newcomer").check_password(GOOD)


def test_staff_changing_their_own_password_meet_the_policy(people: Personas) -> None:
    staff = with_password(people.jr)
    client = Client()
    client.force_login(staff)
    for password, reason in BAD.items():
        if reason == "too similar":
            password = "jr-example-test"  # like jr's address jr@example.test
        response = client.post(
            "/admin/password_change/",
            {"old_password": OLD, "new_password1": password, "new_password2": password},
        )
        assert _error_shown(response, reason), password
        assert still_old(staff), password
    done = client.post(
        "/admin/password_change/",
        {"old_password": OLD, "new_password1": GOOD, "new_password2": GOOD},
    )
    assert done.status_code == 302
