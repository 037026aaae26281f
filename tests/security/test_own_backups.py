"""Backups of the service desk itself: `dump_data_safely` writes a consistent
dump (pg_dump --format=custom of one exported snapshot, or SQLite's backup
API), atomically and readable by its owner only; `restore_data` puts it into
an empty database. The round trip keeps every row of every table, the values,
the id sequences and the encrypted secrets, which still decrypt."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from psycopg import sql

from inventory import crypto
from inventory.seed import seed_locations
from servicedesk.lib.dumps import PG_MAGIC, SQLITE_MAGIC, Database, tables
from tickets.seed import seed_reference_data

ROOT = Path(__file__).resolve().parents[2]
# Columns whose values must come back exactly (besides every row count).
VALUES = {
    "accounts_user": "id, username, password, is_staff, is_superuser, customer_id",
    "accounts_customer": "id, number, name, sla_contract_id",
    "tickets_ticket": "id, number, subject, status, priority, customer_id, created_at",
    "inventory_secret": "id, item_id, label, ciphertext",
    "events_event": "id, kind, object_id, actor_label, data::text, created_at",
}


def populate() -> None:
    """The demo desk. A transactional test starts from a flushed database,
    without the reference data the migrations seed, so that comes first."""
    seed_reference_data()
    seed_locations()
    run("loaddemo")


def run(command: str, *args: str, **options: Any) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".partial-" in path.name)


# --- PostgreSQL -----------------------------------------------------------------------------


def _source() -> Database:
    return Database.from_settings(settings.DATABASES["default"])


@pytest.fixture
def fresh_database() -> Iterator[Database]:
    """An empty database of its own (servicedesk_restore_*), dropped afterwards."""
    source = _source()
    target = Database(**{**source.__dict__, "name": f"servicedesk_restore_{uuid.uuid4().hex[:8]}"})
    admin = Database(**{**source.__dict__, "name": "postgres"})
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
    try:
        yield target
    finally:
        with admin.connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(target.name)
                )
            )


def url_of(database: Database) -> str:
    password = f":{database.password}" if database.password else ""
    host = f"{database.host or '127.0.0.1'}:{database.port or 5432}"
    return f"postgres://{database.user or 'postgres'}{password}@{host}/{database.name}"


def snapshot(conn: Any) -> dict[str, Any]:
    """Row counts of every table, chosen values, the id sequences and the
    applied migrations: what a restore has to bring back."""
    present = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
    state: dict[str, Any] = {}
    for label, table in tables().items():
        if table in present:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            state[label] = conn.execute(query).fetchone()[0]
    for table, columns in VALUES.items():
        query = sql.SQL("SELECT {} FROM {} ORDER BY id").format(
            sql.SQL(columns), sql.Identifier(table)
        )
        state[f"values of {table}"] = [tuple(row) for row in conn.execute(query)]
    for table in ("tickets_ticket", "events_event", "accounts_user"):
        row = conn.execute(
            "SELECT last_value FROM pg_sequences WHERE sequencename = %s", [f"{table}_id_seq"]
        ).fetchone()
        state[f"sequence of {table}"] = row[0] if row else None
    state["migrations"] = conn.execute(
        "SELECT app, name FROM django_migrations ORDER BY app, name"
    ).fetchall()
    return state


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_populated_database_survives_dump_and_restore(
    tmp_path: Path, fresh_database: Database
) -> None:
    populate()
    before = snapshot(connection.connection)
    secrets = before["values of inventory_secret"]
    assert before["tickets.Ticket"] > 0 and secrets and before["events.Event"] > 100
    plain = {row[0]: crypto.decrypt(row[3]) for row in secrets}

    path = tmp_path / "desk.dump"
    report = run("dump_data_safely", str(path))
    assert path.read_bytes().startswith(PG_MAGIC)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []
    assert re.search(rf"tickets\.Ticket +{before['tickets.Ticket']:,}\n", report), report

    report = run("restore_data", str(path), database_url=url_of(fresh_database))
    assert f"into {fresh_database.name}" in report
    with fresh_database.connect() as restored:
        after = snapshot(restored)
    assert after.keys() == before.keys()
    assert [key for key in before if before[key] != after[key]] == []
    # The secrets still decrypt (with the same keys: .env is backed up apart).
    assert {row[0]: crypto.decrypt(row[3]) for row in after["values of inventory_secret"]} == plain
    print(f"round trip: {sum(v for k, v in after.items() if '.' in k and isinstance(v, int))} rows")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_restore_goes_only_into_an_empty_database_and_all_or_nothing(
    tmp_path: Path, fresh_database: Database
) -> None:
    populate()
    path = tmp_path / "desk.dump"
    run("dump_data_safely", str(path))
    # Not over the live database: it has tables.
    with pytest.raises(CommandError, match="is not empty"):
        run("restore_data", str(path))
    # A dump cut short fails inside the one transaction: nothing stays behind.
    cut = tmp_path / "cut.dump"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CommandError, match="pg_restore failed"):
        run("restore_data", str(cut), database_url=url_of(fresh_database))
    with fresh_database.connect() as conn:
        tables_left = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables_left == (0,)
    text = tmp_path / "notes.txt"
    text.write_text("not a dump")
    with pytest.raises(CommandError, match="not a PostgreSQL dump"):
        run("restore_data", str(text), database_url=url_of(fresh_database))
    # Then the whole dump goes in.
    run("restore_data", str(path), database_url=url_of(fresh_database))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_pg_dump_leaves_no_file(tmp_path: Path) -> None:
    """pg_dump's exit code is checked: a dump that broke off half-way is
    neither at the name asked for nor anywhere beside it."""
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "pg_dump"
    script.write_text(
        "#!/bin/sh\nprintf 'PGDMP half'\necho 'pg_dump: error: disk full' >&2\nexit 1\n"
    )
    script.chmod(0o755)
    path = tmp_path / "out" / "desk.dump"
    with pytest.raises(CommandError, match=r"pg_dump failed \(exit code 1\): pg_dump: error: disk"):
        run("dump_data_safely", str(path), pg_bin=str(fake))
    assert not path.exists() and leftovers(path.parent) == []
    with pytest.raises(CommandError, match="pg_dump not found"):
        run("dump_data_safely", str(path), pg_bin=str(tmp_path / "nowhere"))
    # An existing file is never overwritten.
    path.write_bytes(b"yesterday")
    with pytest.raises(CommandError, match="exists already"):
        run("dump_data_safely", str(path))
    assert path.read_bytes() == b"yesterday"


# --- SQLite (the embedded database of `make run`) -----------------------------------------------


NETWORK_KEY = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="
SECRET_KEY = "sqlite-round-trip-" + "k" * 40


def sqlite_state(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        state: dict[str, Any] = {
            label: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for label, table in tables().items()
            if table in present
        }
        for table, columns in VALUES.items():
            columns = columns.replace("::text", "")
            state[table] = conn.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()  # noqa: S608
        return state
    finally:
        conn.close()


def test_the_embedded_sqlite_database_survives_dump_and_restore(tmp_path: Path) -> None:
    source = tmp_path / "desk.sqlite3"
    environ = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DATABASE_URL": f"sqlite:///{source}",
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": SECRET_KEY,
        "NETWORK_SECRET_KEY": NETWORK_KEY,
    }
    for command in (["migrate", "-v0"], ["loaddemo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    dumped, restored = tmp_path / "dumps" / "desk.sqlite3", tmp_path / "restored.sqlite3"
    run("dump_data_safely", str(dumped), database_url=f"sqlite:///{source}")
    assert dumped.read_bytes().startswith(SQLITE_MAGIC)
    assert stat.S_IMODE(dumped.stat().st_mode) == 0o600
    assert leftovers(dumped.parent) == []
    run("restore_data", str(dumped), database_url=f"sqlite:///{restored}")
    before, after = sqlite_state(source), sqlite_state(restored)
    assert before["tickets.Ticket"] > 0 and before["inventory_secret"]
    assert [key for key in before if before[key] != after[key]] == []
    with override_settings(SECRET_KEY=SECRET_KEY, NETWORK_SECRET_KEY=NETWORK_KEY):
        for row in after["inventory_secret"]:
            assert crypto.decrypt(row[3])
    with pytest.raises(CommandError, match="exists already"):
        run("restore_data", str(dumped), database_url=f"sqlite:///{restored}")
    text = tmp_path / "notes.txt"
    text.write_text("not a dump")
    with pytest.raises(CommandError, match="not a SQLite database"):
        run("restore_data", str(text), database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}")
