from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.base import Personas


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue()


def test_the_key_is_printed_once_alone_on_the_last_line_and_stored_hashed(
    personas: Personas,
) -> None:
    output = create("--name", "admin-arge", "--scopes", "customers:read, customers:write")
    key = output.strip().splitlines()[-1]
    assert key.startswith("sd_") and " " not in key and len(key) > 40
    token = ApiToken.objects.get(name="admin-arge")
    assert token.scopes == ["customers:read", "customers:write"]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not ApiToken.objects.filter(key_hash__contains=key).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/customers/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_all_grants_every_scope(personas: Personas) -> None:
    key = create("--name", "ops", "--scopes", "all").strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/tasks/").status_code == 200
    assert client.put("/api/v1/customers/5000/", {"name": "N"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "x", "--scopes", "customers:read,tickets:delete"), "tickets:delete"),
        (("--name", "x", "--scopes", " , "), "at least one scope"),
        (("--name", " ", "--scopes", "all"), "name"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    personas: Personas, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        create(*args)
    assert not ApiToken.objects.exists()


def test_a_name_is_used_once(personas: Personas) -> None:
    create("--name", "backup-script", "--scopes", "backups:write")
    with pytest.raises(CommandError, match="exists"):
        create("--name", "backup-script", "--scopes", "backups:write")
