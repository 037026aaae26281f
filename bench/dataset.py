"""Which database the benchmark measures, and making it when there is none.

Runs before Django is set up (it decides DATABASE_URL), so it talks to
PostgreSQL with psycopg directly and to the project through manage.py.

- DATABASE_URL pointing at a PostgreSQL database that holds tickets: measured
  as it is ("read-mostly": the benchmark adds two users, a session each and an
  API token, and removes again the tickets its creation test made).
- Otherwise the scratch database BENCH_DB (default servicedesk_bench) on the
  same server (or 127.0.0.1:5432): created, migrated and filled with
  `seed_bulk --tickets BENCH_TICKETS` when it has no tickets. Only a database
  the benchmark seeded itself gets the full-text documents filled in, since
  seed_bulk leaves them empty (see docs/benchmarks.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
SCRATCH_NAME = "servicedesk_bench"
# Fewer tickets than this and a database does not count as "seeded".
MIN_TICKETS = 1000

# ticket_search_refresh() for every ticket at once: number, subject, reply-to
# address, customer number and name and the conversation (first 500 messages,
# at most 500,000 characters), as a 'simple' text search document.
FILL_SEARCH_SQL = """
UPDATE tickets_ticket t SET search_vector = to_tsvector('simple'::regconfig, left(concat_ws(' ',
    t.number, t.subject, t.reply_to,
    (SELECT c.number || ' ' || c.name FROM accounts_customer c WHERE c.id = t.customer_id),
    (SELECT string_agg(m.body, ' ' ORDER BY m.id) FROM (
        SELECT body, id FROM tickets_message WHERE ticket_id = t.id ORDER BY id LIMIT 500
    ) m)), 500000))
 WHERE t.search_vector IS NULL
"""


@dataclass
class Dataset:
    url: str
    name: str
    scratch: bool  # the benchmark's own database (it may change it freely)
    tickets: int


def is_postgres(url: str) -> bool:
    return urlparse(url).scheme in ("postgres", "postgresql", "pgsql")


def with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + name, scheme="postgresql"))


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def conninfo(url: str) -> str:
    return with_database(url, database_name(url))


def ticket_count(url: str) -> int | None:
    """Tickets in the database; None when it does not exist or is not migrated."""
    try:
        with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT to_regclass('tickets_ticket') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return 0
            found = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()
            return int(found[0]) if found else 0
    except psycopg.OperationalError as error:
        if "does not exist" in str(error):
            return None
        raise


def manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "servicedesk.settings"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def create_database(url: str, name: str) -> None:
    with psycopg.connect(conninfo(with_database(url, "postgres")), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def vacuum_if_never(url: str, *, force: bool = False) -> bool:
    """VACUUM ANALYZE after seeding: the numbering UPDATE leaves every ticket row
    twice and the visibility map empty, so index-only scans would not be. Done
    when forced, or when the ticket table was never vacuumed nor analysed."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        if not force:
            row = conn.execute(
                "SELECT coalesce(last_vacuum, last_autovacuum) IS NOT NULL"
                " AND coalesce(last_analyze, last_autoanalyze) IS NOT NULL"
                " FROM pg_stat_user_tables WHERE relname = 'tickets_ticket'"
            ).fetchone()
            if row and row[0]:
                return False
        conn.execute("VACUUM ANALYZE")
    return True


def fill_search_documents(url: str) -> int:
    """Only for the scratch database: seed_bulk leaves search_vector empty."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM tickets_ticket WHERE search_vector IS NULL)"
        ).fetchone()
        if not row or not row[0]:
            return 0
        return conn.execute(FILL_SEARCH_SQL).rowcount


def choose(environ: dict[str, str] | None = None) -> Dataset:
    """The database to measure, made and seeded when needed (see the module doc)."""
    env = os.environ if environ is None else environ
    given = env.get("DATABASE_URL", "")
    if given and is_postgres(given):
        count = ticket_count(given)
        if count and count >= MIN_TICKETS:
            if vacuum_if_never(given):
                print(f"bench: VACUUM ANALYZE {database_name(given)} (never vacuumed)")
            return Dataset(conninfo(given), database_name(given), False, count)
        print(f"bench: {database_name(given)} has no seeded tickets; using a scratch database")
    server = given if given and is_postgres(given) else DEFAULT_SERVER
    name = env.get("BENCH_DB", SCRATCH_NAME)
    url = with_database(server, name)
    wanted = int(env.get("BENCH_TICKETS", "100000"))
    count = ticket_count(url)
    if count is None:
        print(f"bench: creating database {name}")
        create_database(url, name)
        count = 0
    if count < MIN_TICKETS:
        print(f"bench: seeding {name} with {wanted} tickets (seed_bulk)")
        manage(url, "migrate", "--noinput", "-v", "0")
        manage(url, "seed_bulk", "--tickets", str(wanted))
    elif count < wanted * 0.9 or count > wanted * 1.5:
        print(f"bench: {name} holds {count} tickets (BENCH_TICKETS={wanted}); measuring those")
    filled = fill_search_documents(url)
    if filled:
        print(f"bench: {filled} full-text documents filled in")
    if vacuum_if_never(url, force=filled > 0):
        print(f"bench: VACUUM ANALYZE {name}")
    return Dataset(url, name, True, ticket_count(url) or 0)
