"""The security audit trail (accounts/audit.py): logins, failed logins and
logouts, changes of is_active/is_staff/is_superuser, of group membership and
of user and role permissions, API tokens issued and revoked, secrets revealed.
Each is an event on the object concerned with who acted; none carries a
password, a key or a session id; the login path pays one INSERT for it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.audit import AUDIT_KINDS
from accounts.models import ApiToken, LoginFailure, User
from accounts.roles import Role, roles_sync
from accounts.services import api_token_create
from events.models import Event
from events.services import history_of
from inventory.item_services import item_create, secret_reveal, secret_store
from tests.base import Personas, make_user
from tests.security.pages import PASSWORD, superuser, with_password


def audit(obj: Any, kind: str, since: int = 0) -> list[Event]:
    return list(history_of(obj).filter(kind=kind, id__gt=since).order_by("id"))


def last_event() -> int:
    """Events after this one are the test's own (making the personas records
    their groups and staff flags too)."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def everything_recorded() -> str:
    rows = Event.objects.values("object_ref", "actor_label", "reason", "data")
    return json.dumps(list(rows), default=str)


def login(client: Client, username: str, password: str, path: str = "/accounts/login/") -> int:
    response = client.post(path, {"username": username, "password": password})
    return response.status_code


# --- Logins and logouts -------------------------------------------------------------------


def test_staff_and_portal_logins_and_logouts_are_recorded(people: Personas) -> None:
    for user in (with_password(people.jr), with_password(people.customer_user)):
        client = Client(REMOTE_ADDR="192.0.2.7")
        assert login(client, user.username, PASSWORD) == 302
        client.post("/accounts/logout/")
        [event] = audit(user, "auth.login")
        assert (event.actor, event.actor_label) == (user, user.username)
        assert event.data == {"address": "192.0.2.7"}
        [event] = audit(user, "auth.logout")
        assert event.actor == user
    assert PASSWORD not in everything_recorded()


def test_a_failed_login_is_recorded_on_the_user_or_the_failure(people: Personas) -> None:
    with_password(people.jr)
    client = Client(REMOTE_ADDR="198.51.100.9")
    assert login(client, "jr", "Wrong-Guess-1") == 200
    [event] = audit(people.jr, "auth.login_failed")
    assert event.actor is None and event.actor_label == "anonymous"
    assert event.data == {"username": "jr", "address": "198.51.100.9"}
    # A name nobody has: on the failure row, which the lock-out counts.
    assert login(client, "root", "Wrong-Guess-2") == 200
    failure = LoginFailure.objects.get(username="root")
    [event] = audit(failure, "auth.login_failed")
    assert event.data == {"username": "root", "address": "198.51.100.9"}
    recorded = everything_recorded()
    assert "Wrong-Guess" not in recorded and "*****" not in recorded
    assert audit(people.jr, "auth.login") == []


def test_a_login_costs_one_insert_for_the_audit_and_no_extra_lookup(people: Personas) -> None:
    with_password(people.jr)
    client = Client()
    client.get("/accounts/login/")
    with CaptureQueriesContext(connection) as queries:
        assert login(client, "jr", PASSWORD) == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum('INSERT INTO "events_event"' in sql for sql in statements) == 1
    # Saving last_login does not look the role flags up for the audit.
    flags = (
        '"accounts_user"."is_active", "accounts_user"."is_staff", "accounts_user"."is_superuser"'
    )
    assert not [sql for sql in statements if sql.startswith(f"SELECT {flags} FROM")]


# --- The lock-out holds on every login path ---------------------------------------------------


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_the_admin_login_counts_towards_the_lock_out_and_respects_it(people: Personas) -> None:
    admin = with_password(superuser("boss"))
    client = Client()
    for _ in range(3):
        assert login(client, "boss", "guess", "/admin/login/") == 200
    assert LoginFailure.objects.filter(username="boss").count() == 3
    # Locked: the right password opens neither the admin nor the login page.
    assert login(client, "boss", PASSWORD, "/admin/login/") == 200
    assert "_auth_user_id" not in client.session
    assert login(Client(), "boss", PASSWORD) == 429
    # Refused without a password check: neither counted nor audited again.
    assert LoginFailure.objects.filter(username="boss").count() == 3
    assert len(audit(admin, "auth.login_failed")) == 3
    assert audit(admin, "auth.login") == []


@override_settings(
    LOGIN_FAILURE_LIMIT=1, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(people: Personas) -> None:
    """Every request comes from the proxy: without X-Forwarded-For one office's
    typos would lock everybody out. The proxy appends the address it saw; what
    the client put before it is ignored."""
    with_password(people.jr)
    proxy = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    for name in ("a", "b", "c", "d"):  # the address limit: 4 x LOGIN_FAILURE_LIMIT
        login(attacker, name, "guess")
    assert set(LoginFailure.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}
    spoofing = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.66")
    assert login(spoofing, "jr", PASSWORD) == 429
    colleague = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert login(colleague, "jr", PASSWORD) == 302


# --- Flags, groups, permissions ---------------------------------------------------------------


def test_flag_changes_are_recorded_with_old_and_new_values(people: Personas) -> None:
    jr, since = people.jr, last_event()
    jr.is_superuser = True
    jr.save()
    jr.is_active = False
    jr.save(update_fields=["is_active"])
    jr.first_name = "Jan"
    jr.save()  # no flag changed: nothing recorded
    changes = [event.data for event in audit(jr, "auth.flags_changed", since)]
    assert changes == [
        {"changed": {"is_superuser": [False, True]}},
        {"changed": {"is_active": [True, False]}},
    ]
    created = make_user("newadmin")  # staff from the start
    [event] = audit(created, "auth.flags_changed")
    assert event.data == {"changed": {"is_staff": [False, True]}, "created": True}
    assert audit(people.customer_user, "auth.flags_changed") == []  # not staff: no elevation


def test_group_membership_changes_from_either_side(people: Personas) -> None:
    sr, managers = people.sr, Group.objects.get(name=Role.IT_MANAGER)
    since = last_event()
    sr.groups.add(managers)
    sr.groups.add(managers)  # already a member: nothing
    managers.user_set.remove(sr)
    managers.user_set.remove(sr)  # not a member any more: nothing
    sr.groups.clear()
    changes = [event.data for event in audit(sr, "auth.groups_changed", since)]
    assert changes == [
        {"added": [Role.IT_MANAGER]},
        {"removed": [Role.IT_MANAGER]},
        {"removed": sorted([Role.CAB_MEMBER, Role.ENGINEER])},
    ]
    assert Event.objects.filter(id__gt=since).count() == 3


def test_user_and_role_permissions_are_recorded(people: Personas) -> None:
    reveal = Permission.objects.get(codename="reveal_secret")
    people.sales.user_permissions.add(reveal)
    people.sales.user_permissions.remove(reveal)
    assert [e.data for e in audit(people.sales, "auth.permissions_changed")] == [
        {"added": ["inventory.reveal_secret"]},
        {"removed": ["inventory.reveal_secret"]},
    ]
    sales = Group.objects.get(name=Role.SALES)
    reveal.group_set.add(sales)
    assert [e.data for e in audit(sales, "auth.group_permissions_changed")] == [
        {"added": ["inventory.reveal_secret"]}
    ]
    # Syncing the role table (after every migrate) is code, not a decision.
    roles_sync()
    assert audit(sales, "auth.group_permissions_changed")[1:] == []
    assert not sales.permissions.filter(pk=reveal.pk).exists()


def _user_form(user: User, **changes: Any) -> dict[str, Any]:
    joined = timezone.localtime(user.date_joined)
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": [],
        "grade": user.grade,
        "customer": "",
        "phone": "",
        "language": "",
        "is_active": "on",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_changes_in_the_django_admin_name_who_made_them(people: Personas) -> None:
    admin = superuser("boss")
    client = Client()
    client.force_login(admin)
    managers = Group.objects.get(name=Role.IT_MANAGER)
    url = f"/admin/accounts/user/{people.jr.pk}/change/"
    since = last_event()
    response = client.post(
        url, _user_form(people.jr, is_superuser="on", groups=[managers.pk], _save="Save")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    flags = audit(people.jr, "auth.flags_changed", since)
    groups = audit(people.jr, "auth.groups_changed", since)
    assert [e.data for e in flags] == [{"changed": {"is_superuser": [False, True]}}]
    assert sorted(key for e in groups for key in e.data) == ["added", "removed"]
    assert {e.actor for e in flags + groups} == {admin}


# --- API tokens and secrets -------------------------------------------------------------------


def test_api_tokens_issued_and_revoked_are_recorded_without_the_key(
    people: Personas, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_api_token", name="admin-arge", scopes="customers:read")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(name="admin-arge")
    [created] = audit(token, "api_token.created")
    assert created.actor_label == "system"
    assert created.data == {"name": "admin-arge", "scopes": ["customers:read"]}
    admin = superuser("boss")
    client = Client()
    client.force_login(admin)
    for _ in range(2):  # the second time it is revoked already: nothing more
        client.post(
            "/admin/accounts/apitoken/",
            {"action": "revoke", "_selected_action": [token.pk], "index": "0"},
        )
    [revoked] = audit(token, "api_token.revoked")
    assert revoked.actor == admin
    issued = api_token_create(name="monitoring", scopes="all", created_by=people.itm)
    assert audit(issued.token, "api_token.created")[0].actor == people.itm
    recorded = everything_recorded()
    assert key not in recorded and issued.key not in recorded


def test_a_revealed_secret_is_recorded_without_its_value(people: Personas) -> None:
    now = timezone.now()
    item = item_create(actor=people.sr, now=now, kind="physical", hostname="db01.example")
    secret = secret_store(item=item, label="root", value="Vault-0451-xyz", actor=people.sr, now=now)
    assert secret_reveal(secret=secret, actor=people.jr, now=now, reason="P1") == "Vault-0451-xyz"
    [event] = audit(item, "item.secret_revealed")
    assert event.actor == people.jr and event.data == {"label": "root"}
    assert "Vault-0451" not in everything_recorded()


def test_the_audit_kinds_are_the_documented_ones() -> None:
    assert len(AUDIT_KINDS) == len(set(AUDIT_KINDS)) == 10
    longest = Event._meta.get_field("kind").max_length or 0
    assert all(len(kind) <= longest for kind in AUDIT_KINDS)
