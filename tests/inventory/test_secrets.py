"""Stored secrets: encrypted at rest, revealed only with the permission and
always on the audit trail, and the value never anywhere else: not in the
pages, the CSV export, the API, the admin, the history or the logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Tags, run_checks
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import Role
from events.models import Event
from events.services import history_of
from inventory import crypto
from inventory.checks import network_secret_key_set, network_secret_key_valid
from inventory.item_services import secret_remove, secret_reveal, secret_store
from inventory.models import Secret
from tests.base import Personas, make_user
from tests.inventory.item_setup import (
    NOW,
    ROOT_PASSWORD,
    Items,
    logged_in,
    make_items,
)

LATER = NOW + timedelta(hours=1)
KEY = Fernet.generate_key().decode()


@pytest.fixture
def items(personas: Personas) -> Items:
    return make_items(personas)


def _secret(items: Items) -> Secret:
    return items.web01.secrets.get(label="root password")


def _reveal_url(items: Items) -> str:
    return f"/network/items/web01.hoogendijk.example/secrets/{_secret(items).public_id}/reveal/"


# --- Encryption at rest -------------------------------------------------------------


def test_the_value_is_stored_encrypted(items: Items) -> None:
    secret = _secret(items)
    stored = bytes(secret.ciphertext)
    assert ROOT_PASSWORD.encode() not in stored
    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM inventory_secret WHERE id = %s", [secret.pk])
        raw = bytes(cursor.fetchone()[0])
    assert raw == stored and ROOT_PASSWORD.encode() not in raw
    assert crypto.decrypt(raw) == ROOT_PASSWORD


def test_equal_values_give_different_ciphertexts() -> None:
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_without_a_configured_key_one_is_derived_from_the_secret_key() -> None:
    with override_settings(NETWORK_SECRET_KEY="", SECRET_KEY="a" * 60):
        token = crypto.encrypt("pw")
        assert Fernet(crypto.derived_key("a" * 60)).decrypt(token) == b"pw"
    with (
        override_settings(NETWORK_SECRET_KEY="", SECRET_KEY="b" * 60),
        pytest.raises(crypto.InvalidToken),
    ):
        crypto.decrypt(token)


def test_a_configured_key_is_used_and_older_derived_values_still_decrypt() -> None:
    with override_settings(NETWORK_SECRET_KEY="", SECRET_KEY="a" * 60):
        old = crypto.encrypt("old")
    with override_settings(NETWORK_SECRET_KEY=KEY, SECRET_KEY="a" * 60):
        new = crypto.encrypt("new")
        assert crypto.decrypt(old) == "old"
    assert Fernet(KEY).decrypt(new) == b"new"


def test_storing_again_under_a_label_replaces_the_value(personas: Personas, items: Items) -> None:
    secret_store(item=items.web01, label="root password", value="n3w", actor=personas.jr, now=LATER)
    secret = _secret(items)
    assert items.web01.secrets.count() == 1
    assert crypto.decrypt(secret.ciphertext) == "n3w"
    event = history_of(items.web01).filter(kind="item.secret_stored").order_by("-id").first()
    assert event is not None and event.data == {"label": "root password", "replaced": True}


def test_a_secret_needs_a_label_and_a_value(personas: Personas, items: Items) -> None:
    with pytest.raises(ValidationError) as info:
        secret_store(item=items.shop, label=" ", value="x", actor=personas.jr, now=LATER)
    assert "label" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        secret_store(item=items.shop, label="root", value="", actor=personas.jr, now=LATER)
    assert "value" in info.value.message_dict


# --- Revealing -------------------------------------------------------------------------


def test_revealing_needs_the_permission_and_is_audited(personas: Personas, items: Items) -> None:
    secret = _secret(items)
    viewer = make_user("viewer", roles=(Role.VIEWER,))
    for user in (viewer, personas.sales, personas.customer_user):
        with pytest.raises(PermissionDenied):
            secret_reveal(secret=secret, actor=user, now=LATER)
    assert not Event.objects.filter(kind="item.secret_revealed").exists()
    value = secret_reveal(secret=secret, actor=personas.jr, now=LATER, reason="T-000123")
    assert value == ROOT_PASSWORD
    event = history_of(items.web01).get(kind="item.secret_revealed")
    assert (event.actor, event.created_at, event.reason) == (personas.jr, LATER, "T-000123")
    assert event.data == {"label": "root password"}


def test_a_secret_stored_under_another_key_says_so(personas: Personas, items: Items) -> None:
    with (
        override_settings(NETWORK_SECRET_KEY=KEY, SECRET_KEY="c" * 60),
        pytest.raises(ValidationError),
    ):
        secret_reveal(secret=_secret(items), actor=personas.jr, now=LATER)


def test_the_reveal_page_shows_the_value_once_and_records_it(
    personas: Personas, items: Items
) -> None:
    client = logged_in(personas.jr)
    assert client.get(_reveal_url(items)).status_code == 405
    response = client.post(_reveal_url(items), {"reason": "P1 incident"})
    assert response.status_code == 200
    assert ROOT_PASSWORD in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert ROOT_PASSWORD not in _reveal_url(items)
    event = history_of(items.web01).get(kind="item.secret_revealed")
    assert event.actor == personas.jr and event.reason == "P1 incident"
    page = client.get("/network/items/web01.hoogendijk.example/").content.decode()
    assert "secret revealed" in page and "P1 incident" in page and ROOT_PASSWORD not in page


def test_who_may_not_reveal_gets_no_button_and_a_refusal(personas: Personas, items: Items) -> None:
    viewer = logged_in(make_user("viewer", roles=(Role.VIEWER,)))
    page = viewer.get("/network/items/web01.hoogendijk.example/").content.decode()
    assert "root password" in page  # the label is shown ...
    assert _reveal_url(items) not in page  # ... without a reveal button
    assert viewer.post(_reveal_url(items)).status_code == 403
    assert logged_in(personas.customer_user).post(_reveal_url(items)).status_code == 404
    assert Client().post(_reveal_url(items)).status_code == 302
    assert not Event.objects.filter(kind="item.secret_revealed").exists()


def test_a_secret_of_another_item_is_not_found(personas: Personas, items: Items) -> None:
    url = f"/network/items/shop.korenschoof.example/secrets/{_secret(items).public_id}/reveal/"
    assert logged_in(personas.jr).post(url).status_code == 404


def test_storing_through_the_page_never_echoes_the_value(personas: Personas, items: Items) -> None:
    client = logged_in(personas.jr)
    url = "/network/items/shop.korenschoof.example/secrets/"
    response = client.post(url, {"label": "", "value": "Typed-Secret-123"})
    assert response.status_code == 400
    assert "Typed-Secret-123" not in response.content.decode()
    response = client.post(url, {"label": "admin", "value": "Typed-Secret-123"})
    assert response.status_code == 302
    assert crypto.decrypt(items.shop.secrets.get(label="admin").ciphertext) == "Typed-Secret-123"
    assert (
        logged_in(make_user("viewer", roles=(Role.VIEWER,)))
        .post(url, {"label": "x", "value": "y"})
        .status_code
        == 403
    )


def test_removing_a_secret_is_history(personas: Personas, items: Items) -> None:
    secret_remove(secret=_secret(items), actor=personas.sr, now=LATER)
    assert not Secret.objects.exists()
    event = history_of(items.web01).get(kind="item.secret_removed")
    assert event.data == {"label": "root password"}


# --- Never anywhere else ------------------------------------------------------------


def _superuser() -> User:
    user = make_user("super")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def _everything_a_user_can_read(
    personas: Personas, items: Items, token_client: Callable[..., APIClient]
) -> dict[str, str]:
    staff = logged_in(personas.jr)
    admin = logged_in(_superuser())
    api = token_client("inventory:read")
    export = staff.get("/network/export.csv")
    customer = logged_in(personas.customer_user)
    return {
        "item list": staff.get("/network/").content.decode(),
        "item list search": staff.get("/network/?q=web01").content.decode(),
        "item page": staff.get("/network/items/web01.hoogendijk.example/").content.decode(),
        "csv export": b"".join(export.streaming_content).decode(),  # type: ignore[attr-defined]
        "api list": api.get("/api/v1/machines/").content.decode(),
        "api detail": api.get("/api/v1/machines/web01.hoogendijk.example/").content.decode(),
        "api detail by serial": api.get("/api/v1/machines/CZ2301A7K1/").content.decode(),
        "admin list": admin.get("/admin/inventory/configurationitem/").content.decode(),
        "admin item": admin.get(
            f"/admin/inventory/configurationitem/{items.web01.pk}/change/"
        ).content.decode(),
        "portal list": customer.get("/portal/machines/").content.decode(),
        "portal page": customer.get("/portal/machines/web01.hoogendijk.example/").content.decode(),
    }


def test_the_value_appears_nowhere_but_on_the_reveal_page(
    personas: Personas, items: Items, token_client: Callable[..., APIClient]
) -> None:
    secret_reveal(secret=_secret(items), actor=personas.jr, now=LATER)
    texts = _everything_a_user_can_read(personas, items, token_client)
    for where, text in texts.items():
        assert "web01.hoogendijk.example" in text or "CZ2301A7K1" in text, where
        assert ROOT_PASSWORD not in text, where
    ciphertext = bytes(_secret(items).ciphertext).decode()
    for where, text in texts.items():
        assert ciphertext not in text, where
    api = json.loads(texts["api detail"])
    assert not {"secrets", "secret", "password", "ciphertext"} & set(api)


def test_the_secrets_are_not_in_the_admin(personas: Personas, items: Items) -> None:
    admin = logged_in(_superuser())
    assert admin.get("/admin/inventory/secret/").status_code == 404
    page = admin.get("/admin/inventory/").content.decode()
    assert "Configuration items" in page and "Secrets" not in page


def test_the_value_is_in_no_event(personas: Personas, items: Items) -> None:
    secret_reveal(secret=_secret(items), actor=personas.jr, now=LATER)
    client = logged_in(personas.jr)
    client.post("/network/items/shop.korenschoof.example/secrets/", {"label": "a", "value": "Zz9"})
    client.post(_reveal_url(items), {"reason": "check"})
    columns = [field.attname for field in Event._meta.concrete_fields]
    rows = json.dumps(list(Event.objects.values(*columns)), default=str)
    assert ROOT_PASSWORD not in rows and "Zz9" not in rows


def test_the_value_never_reaches_the_logs(
    personas: Personas, items: Items, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged_in(personas.jr)
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="django"),
        CaptureQueriesContext(connection),
    ):
        # With the query log on, every SQL statement and its parameters is
        # logged too: the plaintext must not be among them.
        secret_store(
            item=items.shop, label="root", value="Logged-Never-4242", actor=personas.jr, now=LATER
        )
        client.post(
            "/network/items/shop.korenschoof.example/secrets/",
            {"label": "admin", "value": "Logged-Never-5353"},
        )
        secret_reveal(secret=items.shop.secrets.get(label="root"), actor=personas.jr, now=LATER)
        client.post(_reveal_url(items), {"reason": "logging test"})
        logged_in(make_user("viewer", roles=(Role.VIEWER,))).post(_reveal_url(items))
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "inventory_secret" in text  # the SQL log was on
    assert "revealed by jr" in text  # the reveal itself is logged, without the value
    for value in ("Logged-Never-4242", "Logged-Never-5353", ROOT_PASSWORD):
        assert value not in text


# --- The configuration check -------------------------------------------------------------


def test_the_deploy_check_warns_without_a_key() -> None:
    with override_settings(NETWORK_SECRET_KEY=""):
        assert [m.id for m in network_secret_key_set()] == ["inventory.W001"]
        assert network_secret_key_valid() == []
        ids = [m.id for m in run_checks(tags=[Tags.security], include_deployment_checks=True)]
        assert "inventory.W001" in ids
        ids = [m.id for m in run_checks(tags=[Tags.security])]
        assert "inventory.W001" not in ids


def test_the_check_reports_an_invalid_key_as_an_error() -> None:
    with override_settings(NETWORK_SECRET_KEY="not-a-fernet-key"):
        assert [m.id for m in network_secret_key_valid()] == ["inventory.E001"]
        assert network_secret_key_set() == []
        assert "inventory.E001" in [m.id for m in run_checks(tags=[Tags.security])]


def test_a_valid_key_passes_the_checks() -> None:
    with override_settings(NETWORK_SECRET_KEY=KEY):
        assert network_secret_key_valid() == [] and network_secret_key_set() == []
