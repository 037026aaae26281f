"""Backups of the service desk's own database (manage.py dump_data_safely and
restore_data): PostgreSQL through pg_dump and pg_restore in the custom format,
the embedded SQLite database through SQLite's backup API.

A dump is consistent: pg_dump reads one snapshot, exported from a REPEATABLE
READ transaction in which the row counts it reports are taken too, so the
counts describe exactly what the file holds; SQLite's backup copies the
database in one step under a read lock. A dump is written beside its final
name, readable by its owner only (0600), synced, and renamed into place only
when complete: a failed or interrupted dump leaves no file that looks like a
dump. A restore goes into an empty database only, so it can never mix two
states. Passwords travel in the environment (PGPASSWORD), never on a command
line that `ps` shows."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
from django.apps import apps
from django.conf import settings
from psycopg import sql
from psycopg.conninfo import make_conninfo

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
# The tables the commands report; the restore test compares every table.
MAIN_MODELS = (
    "accounts.Customer",
    "accounts.User",
    "tickets.Ticket",
    "tickets.Message",
    "tickets.Task",
    "changes.Change",
    "backups.BackupJob",
    "backups.BackupRun",
    "inventory.ConfigurationItem",
    "inventory.Secret",
    "inventory.Delivery",
    "events.Event",
    "events.Notification",
)


class DumpError(Exception):
    """A dump or restore that did not happen, with the reason."""


@dataclass(frozen=True)
class Database:
    engine: str  # "postgresql" or "sqlite"
    name: str  # database name, or the SQLite file
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    sslmode: str = ""

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls.from_settings(dj_database_url.parse(url))

    @classmethod
    def chosen(cls, url: str | None) -> Database:
        """The database a command's --database-url names, else Django's own."""
        if url:
            return cls.from_url(url)
        return cls.from_settings(settings.DATABASES["default"])

    @classmethod
    def from_settings(cls, parsed: Mapping[str, Any]) -> Database:
        """From an entry of settings.DATABASES (the one Django uses, so under
        the test runner the test database)."""
        engine = str(parsed["ENGINE"]).rsplit(".", 1)[-1]
        if engine == "sqlite3":
            return cls("sqlite", str(parsed["NAME"]))
        if engine != "postgresql":
            raise DumpError(f"cannot dump a {engine} database")
        options = parsed.get("OPTIONS") or {}
        return cls(
            "postgresql",
            str(parsed.get("NAME") or ""),
            user=str(parsed.get("USER") or ""),
            password=str(parsed.get("PASSWORD") or ""),
            host=str(parsed.get("HOST") or ""),
            port=str(parsed.get("PORT") or ""),
            sslmode=str(options.get("sslmode") or ""),
        )

    @property
    def label(self) -> str:
        if self.engine == "sqlite":
            return self.name
        return f"{self.name} on {self.host or 'localhost'}:{self.port or 5432}"

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        params = {
            "dbname": self.name,
            "user": self.user,
            "password": self.password,
            "host": self.host,
            "port": self.port,
            "sslmode": self.sslmode,
        }
        conninfo = make_conninfo("", connect_timeout=10, **{k: v for k, v in params.items() if v})
        return psycopg.connect(conninfo, autocommit=autocommit)

    def client_args(self) -> list[str]:
        args = [
            ("--host", self.host),
            ("--port", self.port),
            ("--username", self.user),
            ("--dbname", self.name),
        ]
        return ["--no-password", *(f"{flag}={value}" for flag, value in args if value)]

    def client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env


@dataclass(frozen=True)
class Result:
    path: Path
    size: int
    seconds: float
    counts: dict[str, int]  # model label -> rows, for every table present


def tables() -> dict[str, str]:
    """Model label -> table, for every table the project's models have
    (many-to-many tables too)."""
    return {
        model._meta.label: model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def _client(program: str, pg_bin: str | None) -> str:
    found = shutil.which(program, path=pg_bin) if pg_bin else shutil.which(program)
    if found is None:
        where = f"in {pg_bin}" if pg_bin else "on PATH"
        raise DumpError(
            f"{program} not found {where}: install the PostgreSQL client of the server's "
            "version (Debian: postgresql-client) or name its directory with --pg-bin"
        )
    return found


def _run(command: list[str], env: dict[str, str], **kwargs: Any) -> None:
    done = subprocess.run(command, env=env, stderr=subprocess.PIPE, check=False, **kwargs)  # noqa: S603
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or "no message"
        raise DumpError(f"{Path(command[0]).name} failed (exit code {done.returncode}): {message}")


@contextmanager
def _written_atomically(path: Path) -> Iterator[Path]:
    """A file for the caller to fill at a temporary name beside `path`
    (mode 0600), moved to `path` only when the block ends without error."""
    if path.exists():
        raise DumpError(f"{path} exists already; choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.partial-{os.getpid()}")
    os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield draft
        with open(draft, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(draft, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        draft.unlink(missing_ok=True)


def _pg_counts(connection: psycopg.Connection[Any]) -> dict[str, int]:
    present = {
        row[0]
        for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    counts = {}
    for label, table in tables().items():
        if table in present:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            row = connection.execute(query).fetchone()
            counts[label] = int(row[0]) if row else 0
    return counts


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    present = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    return {
        label: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608
        for label, table in tables().items()
        if table in present
    }


def dump(database: Database, path: Path, *, pg_bin: str | None = None) -> Result:
    started = time.monotonic()
    with _written_atomically(path) as draft:
        if database.engine == "postgresql":
            counts = _dump_postgresql(database, draft, pg_bin)
        else:
            counts = _dump_sqlite(database, draft)
    return Result(path, path.stat().st_size, time.monotonic() - started, counts)


def _dump_postgresql(database: Database, draft: Path, pg_bin: str | None) -> dict[str, int]:
    pg_dump = _client("pg_dump", pg_bin)
    try:
        connection = database.connect(autocommit=True)
    except psycopg.Error as error:
        raise DumpError(f"cannot connect to {database.label}: {error}") from None
    with connection:
        # The snapshot pg_dump reads, and the counts taken in it.
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        counts = _pg_counts(connection)
        with open(draft, "wb") as output:
            _run(
                [pg_dump, "--format=custom", f"--snapshot={row[0]}", *database.client_args()],
                database.client_env(),
                stdout=output,
            )
        connection.execute("COMMIT")
    return counts


def _dump_sqlite(database: Database, draft: Path) -> dict[str, int]:
    if not Path(database.name).is_file():
        raise DumpError(f"no SQLite database at {database.name}")
    source = sqlite3.connect(f"file:{database.name}?mode=ro", uri=True)
    target = sqlite3.connect(draft)
    try:
        source.backup(target)  # all pages in one step: one consistent state
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _sqlite_counts(target)
    finally:
        target.close()
        source.close()


def restore(database: Database, path: Path, *, pg_bin: str | None = None) -> Result:
    if not path.is_file():
        raise DumpError(f"no dump at {path}")
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    started = time.monotonic()
    if database.engine == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise DumpError(f"{path} is not a PostgreSQL dump in the custom format")
        counts = _restore_postgresql(database, path, pg_bin)
    else:
        if head != SQLITE_MAGIC:
            raise DumpError(f"{path} is not a SQLite database")
        counts = _restore_sqlite(database, path)
    return Result(path, path.stat().st_size, time.monotonic() - started, counts)


def _restore_postgresql(database: Database, path: Path, pg_bin: str | None) -> dict[str, int]:
    pg_restore = _client("pg_restore", pg_bin)
    try:
        with database.connect() as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_tables "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
    except psycopg.Error as error:
        raise DumpError(f"cannot connect to {database.label}: {error}") from None
    if row and row[0]:
        raise DumpError(
            f"{database.label} is not empty ({row[0]} tables): restore into a new, empty "
            "database (createdb), then point DATABASE_URL at it"
        )
    # One transaction: a restore that fails half-way leaves the database empty.
    _run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            *database.client_args(),
            str(path),
        ],
        database.client_env(),
    )
    with database.connect() as connection:
        return _pg_counts(connection)


def _restore_sqlite(database: Database, path: Path) -> dict[str, int]:
    target = Path(database.name)
    if target.exists() and target.stat().st_size > 0:
        raise DumpError(f"{target} exists already: restore into a new file")
    target.unlink(missing_ok=True)
    with _written_atomically(target) as draft:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        copy = sqlite3.connect(draft)
        try:
            source.backup(copy)
            counts = _sqlite_counts(copy)
        finally:
            copy.close()
            source.close()
    return counts


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def report(result: Result, heading: str) -> list[str]:
    lines = [f"{heading} ({human_size(result.size)}, {result.seconds:.1f} s)"]
    for label in MAIN_MODELS:
        if label in result.counts:
            lines.append(f"  {label:<30} {result.counts[label]:>10,}")
    total = sum(result.counts.values())
    lines.append(f"  {'rows in all ' + str(len(result.counts)) + ' tables':<30} {total:>10,}")
    return lines
