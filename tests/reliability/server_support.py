"""The service desk as it runs in production, for the fault and load tests:
a database made and migrated for the test, gunicorn serving the product's own
settings on loopback, an HTTP client that times each call, and the checks that
read back what was stored.

Also run as a program inside the server's environment (Django set up against
the test's database):

  python -m tests.reliability.server_support prepare          # migrate, demo data, token
  python -m tests.reliability.server_support sla-check PREFIX # stored vs computed SLA
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import psycopg

from tests.reliability.faults_support import free_port, unavailable

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
TOKEN_NAME = "reliability-client"
# Environment variables of the test run that must not reach the server under
# test: it gets its own database, a filesystem broker and no shared Redis.
_NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_CACHE_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "VAR_DIR",
    "MEDIA_ROOT",
    "DEBUG",
)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share between 0 and 1) of `values`."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


# --- Databases ------------------------------------------------------------------


def server_url(host: str, port: int | str, user: str, password: str = "") -> str:
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"postgres://{auth}@{host}:{port}"


def database_url(server: str, name: str) -> str:
    return f"{server}/{name}"


def reachable(server: str) -> str | None:
    """Why the PostgreSQL server cannot be used, or None."""
    try:
        with psycopg.connect(database_url(server, "postgres"), connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"needs PostgreSQL at {urlparse(server).hostname}:{urlparse(server).port}: {error}"


def database_recreate(server: str, name: str) -> None:
    with psycopg.connect(database_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def server_env(db_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        DATABASE_URL=db_url,
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def app_prepare(env: dict[str, str]) -> str:
    """Migrate the database in `env`, load the demo data and make an API token
    for the clients; its key."""
    done = subprocess.run(
        [PYTHON, "-m", "tests.reliability.server_support", "prepare"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{done.stdout}\n{done.stderr}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["key"])


def sla_check(env: dict[str, str], prefix: str) -> dict[str, Any]:
    """Every ticket whose subject starts with `prefix`: the SLA state the engine
    computes now from the ticket's history, compared with what is stored."""
    done = subprocess.run(
        [PYTHON, "-m", "tests.reliability.server_support", "sla-check", prefix],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the SLA check failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rows(db_url: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url, autocommit=True, connect_timeout=10) as conn:
        return list(conn.execute(sql, params).fetchall())


# --- A private PostgreSQL cluster -------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian's layout), or PG_BIN."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


@dataclass
class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory, listening on
    127.0.0.1:port with its socket in that directory, so stopping it disturbs
    nobody. As root the server runs as the postgres user (it refuses root)."""

    bindir: Path
    base: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    @property
    def server(self) -> str:
        return server_url("127.0.0.1", self.port, "postgres")

    def _run(self, *args: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base}"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_cluster(base: Path) -> Iterator[Cluster]:
    bindir = postgres_bin()
    if bindir is None or not (bindir / "pg_ctl").exists():
        unavailable("needs PostgreSQL's server binaries (initdb, pg_ctl); set PG_BIN")
        raise AssertionError("unreachable")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        unavailable("needs runuser to start PostgreSQL as the postgres user")
    cluster = Cluster(bindir=bindir, base=base)
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        if cluster.running():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                cluster.stop("immediate")


# --- gunicorn ----------------------------------------------------------------------


@dataclass
class AppServer:
    """gunicorn with sync workers serving servicedesk.wsgi with the product's
    settings, started in its own session and stopped by its pid."""

    env: dict[str, str]
    log_path: Path
    workers: int = 4
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            GUNICORN,
            "servicedesk.wsgi:application",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            with suppress(OSError):
                if call(self.port, "GET", "/healthz").status == 200:
                    break
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"gunicorn did not answer:\n{self.log_tail()}")
        # Every worker has booted (and none is still starting) before the run begins.
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.2)

    def worker_pids(self) -> set[int]:
        if self.process is None:
            return set()
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == self.process.pid:
                found.add(int(entry.name))
        return found

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextmanager
def app_server(env: dict[str, str], log_path: Path, workers: int) -> Iterator[AppServer]:
    server = AppServer(env=env, log_path=log_path, workers=workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- HTTP ----------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    started: float  # time.monotonic()
    seconds: float

    @property
    def replayed(self) -> bool:
        return self.headers.get("idempotent-replayed") == "true"


def call(
    port: int,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Answer:
    """One request on a new connection (gunicorn's sync workers close each one);
    a connection error raises OSError (http.client's errors included)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        sent = {"Accept": "application/json", **(headers or {})}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    except http.client.HTTPException as error:
        raise ConnectionError(f"{type(error).__name__}: {error}") from error
    finally:
        conn.close()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = raw[:200].decode(errors="replace")
    return Answer(response.status, data, answer_headers, started, time.monotonic() - started)


@dataclass
class Tally:
    """Answers from many client threads, by kind of request."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, answer: Answer) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(answer.seconds)
            by_status = self.statuses.setdefault(kind, {})
            by_status[answer.status] = by_status.get(answer.status, 0) + 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def all_latencies(self) -> list[float]:
        return [s for values in self.latencies.values() for s in values]


# --- Run inside the server's environment --------------------------------------------


def _prepare() -> None:
    import django

    import servicedesk  # noqa: F401 (its Celery app first, as manage.py and gunicorn load it)

    django.setup()
    from django.core.management import call_command

    from accounts.models import ApiToken
    from accounts.services import api_token_create

    call_command("migrate", interactive=False, verbosity=0)
    call_command("loaddemo", verbosity=0)
    ApiToken.objects.filter(name=TOKEN_NAME).delete()
    issued = api_token_create(name=TOKEN_NAME, scopes="tickets:read,tickets:write")
    print(json.dumps({"key": issued.key}))


def _sla_check(prefix: str) -> None:
    import django

    import servicedesk  # noqa: F401 (its Celery app first, as manage.py and gunicorn load it)

    django.setup()
    from django.utils import timezone

    from tickets.models import Ticket
    from tickets.sla_services import sla_recompute

    now = timezone.now()
    checked = with_due = 0
    differences: dict[str, dict[str, list[str]]] = {}
    for ticket in Ticket.objects.filter(subject__startswith=prefix).order_by("id"):
        checked += 1
        with_due += ticket.response_due_at is not None or ticket.resolution_due_at is not None
        found = sla_recompute(ticket=ticket, now=now, store=False)
        if found:
            differences[ticket.number or str(ticket.pk)] = {
                name: [str(stored), str(computed)] for name, (stored, computed) in found.items()
            }
    print(json.dumps({"checked": checked, "with_due": with_due, "differences": differences}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        _prepare()
    elif sys.argv[1:2] == ["sla-check"] and len(sys.argv) == 3:
        _sla_check(sys.argv[2])
    else:
        sys.exit(__doc__)
