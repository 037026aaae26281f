"""Fault injection for tests/reliability/test_faults.py: a private Redis that
can be stopped, real Celery workers, beats and gunicorn as subprocesses on the
test's PostgreSQL database, a mail backend that records every mail and can
stall a worker in the middle of sending, and a database trigger that stalls a
worker at a chosen row until the test lets it go (or kills it there).

Everything stalls on something the test holds, never on a clock: the test
waits (with a deadline) until the worker is provably stuck, then acts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import psycopg
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_SERVER = shutil.which("redis-server")

T = TypeVar("T")


def unavailable(reason: str) -> None:
    """Skip for a missing outside service; under CI=true that is a failure."""
    import pytest

    if IN_CI:
        pytest.fail(f"CI=true and this test {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(
    check: Callable[[], T], *, what: str, timeout: float = 60.0, logs: tuple[Path, ...] = ()
) -> T:
    """Poll `check` until it answers something truthy; fail after `timeout`
    seconds with the tails of the given logs."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:]
                for log in logs
                if log.exists()
            )
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{tails}")
        time.sleep(0.05)


# --- The database -----------------------------------------------------------------


def database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict["USER"] or "postgres", safe="")
    password = ":" + quote(settings_dict["PASSWORD"], safe="") if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class DbStall:
    """A trigger that makes matching INSERTs into `table` wait for an advisory
    lock this object holds on its own connection: a worker that reaches such a
    row stops there, inside its transaction, with everything before it
    committed. `release()` lets it go on; killing the worker there leaves the
    transaction to be rolled back by PostgreSQL."""

    def __init__(self, url: str, *, name: str, table: str, when: str, key: int) -> None:
        self.url, self.name, self.table, self.when, self.key = url, name, table, when, key
        self.connection = psycopg.connect(url, autocommit=True)
        self.held = False

    def __enter__(self) -> DbStall:
        self.hold()
        function = f"faults_stall_{self.name}"
        self.connection.execute(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_advisory_xact_lock_shared({int(self.key)}); RETURN NEW; END $$"
        )
        self.connection.execute(
            f"CREATE TRIGGER {function} BEFORE INSERT ON {self.table} FOR EACH ROW "
            f"WHEN ({self.when}) EXECUTE FUNCTION {function}()"
        )
        return self

    def hold(self) -> None:
        if not self.held:
            self.connection.execute("SELECT pg_advisory_lock(%s)", [self.key])
            self.held = True

    def release(self) -> None:
        if self.held:
            self.connection.execute("SELECT pg_advisory_unlock(%s)", [self.key])
            self.held = False

    def stalled(self) -> list[int]:
        """The backends waiting at this stall."""
        rows = self.connection.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = 0 AND objid = %s AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())",
            [self.key],
        ).fetchall()
        return [pid for (pid,) in rows]

    def waiting_on_locks(self) -> int:
        """Backends of this database waiting for any lock (the stall, or a row
        another stalled transaction holds)."""
        row = self.connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        return int(row[0]) if row else 0

    def gone(self, pids: list[int]) -> bool:
        row = self.connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
        ).fetchone()
        return row is not None and row[0] == 0

    def __exit__(self, *exc: object) -> None:
        self.release()
        function = f"faults_stall_{self.name}"
        self.connection.execute(f"DROP TRIGGER IF EXISTS {function} ON {self.table}")
        self.connection.execute(f"DROP FUNCTION IF EXISTS {function}()")
        self.connection.close()


# --- Redis ---------------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence:
    stopping it loses what it held, the hardest case for the outbox."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.ping(), what="redis-server answers PING", timeout=20)

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        wait_for(lambda: not port_open(self.port), what="redis-server is down", timeout=20)

    def idle(self) -> bool:
        """No task waiting in the default queue and none delivered but unacknowledged."""
        client = self.client()
        return client.llen("celery") == 0 and client.hlen("unacked") == 0


# --- Mail ------------------------------------------------------------------------------

_sent_here = 0
_sent_lock = threading.Lock()


class RecordingBackend(BaseEmailBackend):
    """Test-only mail backend (EMAIL_BACKEND=tests.reliability.faults_support.
    RecordingBackend): each mail becomes one JSON line in FAULTS_MAIL_LOG with
    its Message-ID, recipients and subject; a recorded line is a mail the mail
    server accepted.

    FAULTS_MAIL_STALL_AT=N stalls the N-th mail of this process for good
    (until the test kills the worker) after writing FAULTS_MAIL_MARKER: before
    the mail is accepted, or after it with FAULTS_MAIL_STALL_AFTER_ACCEPT=1
    (the window in which a dying sender leaves a mail sent but not marked)."""

    def send_messages(self, email_messages: Any) -> int:
        global _sent_here
        stall_at = int(os.environ.get("FAULTS_MAIL_STALL_AT", "0") or 0)
        after = os.environ.get("FAULTS_MAIL_STALL_AFTER_ACCEPT") == "1"
        for message in email_messages:
            with _sent_lock:
                _sent_here += 1
                number = _sent_here
            stall = number == stall_at
            if stall and not after:
                _stall(message)
            _record(message)
            if stall and after:
                _stall(message)
        return len(email_messages)


def _record(message: EmailMessage) -> None:
    line = json.dumps(
        {
            "message_id": str(message.message()["Message-ID"]),
            "to": list(message.to),
            "subject": str(message.subject),
            "pid": os.getpid(),
        }
    )
    fd = os.open(os.environ["FAULTS_MAIL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())  # one write: lines never interleave
    finally:
        os.close(fd)


def _stall(message: EmailMessage) -> None:
    marker = Path(os.environ["FAULTS_MAIL_MARKER"])
    draft = marker.with_suffix(".draft")
    draft.write_text(str(message.message()["Message-ID"]))
    draft.rename(marker)
    threading.Event().wait()  # until the test kills this process


def mail_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def sent_per_message_id(path: Path) -> Counter[str]:
    return Counter(record["message_id"] for record in mail_log(path))


# --- Processes ---------------------------------------------------------------------------


class Fleet:
    """The subprocesses of one test, all with the same environment: the test's
    database, the private Redis, the recording mail backend. Stopped (and
    killed if need be) when the test ends, before its database is flushed."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.kills = 0

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def logs(self) -> tuple[Path, ...]:
        return tuple(self.log(name) for name in self.processes)

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        with self.log(name).open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def worker(self, name: str, env: dict[str, str] | None = None) -> None:
        """A Celery worker of one process (solo pool): killing it kills the task."""
        self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "servicedesk",
                "worker",
                "--pool",
                "solo",
                "-n",
                f"{name}@%h",
                "-l",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
        )

    def ready(self, name: str) -> None:
        wait_for(
            lambda: " ready." in self.log(name).read_text(errors="replace"),
            what=f"{name} is ready",
            logs=(self.log(name),),
        )

    def beat(self, name: str, schedule: Path) -> None:
        self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "servicedesk",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(schedule),
                "--pidfile=",
            ],
        )

    def web(self, name: str, port: int) -> None:
        self.start(
            name,
            [
                str(BIN / "gunicorn"),
                "servicedesk.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                "--error-logfile",
                "-",
            ],
        )
        wait_for(lambda: port_open(port), what=f"{name} listens", logs=(self.log(name),))

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no rollback by the process."""
        process = self.processes.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        self.kills += 1

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def count_in_log(self, name: str, text: str) -> int:
        path = self.log(name)
        return path.read_text(errors="replace").count(text) if path.exists() else 0


@contextmanager
def fleet(directory: Path, env: dict[str, str]) -> Iterator[Fleet]:
    processes = Fleet(directory, env)
    try:
        yield processes
    finally:
        processes.stop_all()


def seed_beat_schedule(app: Any, path: Path, last_run_at: datetime) -> None:
    """A beat schedule file whose entries last ran at `last_run_at`, as after
    downtime: a beat started on it sends every task at once instead of after
    the first interval."""
    from celery.beat import PersistentScheduler

    scheduler: Any = PersistentScheduler(app=app, schedule_filename=str(path), lazy=False)  # type: ignore[call-arg]
    for entry in scheduler.schedule.values():
        entry.last_run_at = last_run_at
    scheduler.sync()
    scheduler.close()
