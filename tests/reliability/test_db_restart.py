"""PostgreSQL restarts while clients create tickets through the API: the
gunicorn workers carry on without being restarted, and a client that retries
with its Idempotency-Key ends up with exactly one ticket per key.

The database server is a private cluster in a temporary directory (initdb,
pg_ctl on a free port), so stopping it disturbs no other database."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.reliability.server_support import (
    Answer,
    AppServer,
    Cluster,
    app_prepare,
    app_server,
    call,
    database_recreate,
    database_url,
    private_cluster,
    rows,
    server_env,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

CLIENTS = 6
WORKERS = 3
BEFORE_S = 3.0  # load before the database goes away
DOWN_S = 2.0  # the database is stopped this long
AFTER_S = 5.0  # load after it is back
GIVE_UP_S = 60.0  # a client retries one key at most this long
PREFIX = "dbfault-"


@dataclass
class Attempt:
    key: str
    started: float
    status: int | None  # None: no HTTP answer (connection error)
    detail: str = ""
    number: str = ""
    replayed: bool = False


@dataclass
class Log:
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> ticket number
    abandoned: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)
            if attempt.status == 201:
                self.acknowledged[attempt.key] = attempt.number


def _body(key: str) -> dict[str, str]:
    return {
        "customer": "1000",
        "subject": f"{key} printer offline",
        "message": "The printer on the second floor does not answer.",
        "type": "incident",
        "impact": "medium",
        "urgency": "high",
    }


def _create(port: int, headers: dict[str, str], key: str, log: Log) -> None:
    """POST until acknowledged: on a connection error or a 5xx the same key again."""
    give_up = time.monotonic() + GIVE_UP_S
    while time.monotonic() < give_up:
        started = time.monotonic()
        try:
            answer: Answer | None = call(
                port, "POST", "/api/v1/tickets/", _body(key), {**headers, "Idempotency-Key": key}
            )
        except OSError as error:
            answer, detail = None, f"{type(error).__name__}: {error}"
        if answer is None:
            log.add(Attempt(key, started, None, detail))
        elif answer.status == 201:
            number = answer.body["number"]
            log.add(Attempt(key, started, 201, number=number, replayed=answer.replayed))
            return
        else:
            log.add(Attempt(key, started, answer.status, str(answer.body)[:200]))
            if answer.status < 500:
                break  # a refusal is not retried: the test reports it
        time.sleep(0.1)
    with log.lock:
        log.abandoned.append(key)


def _client(port: int, headers: dict[str, str], stop: threading.Event, log: Log) -> None:
    while not stop.is_set():
        _create(port, headers, f"{PREFIX}{uuid.uuid4()}", log)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Outside pytest's tmp_path: the postgres user must be able to enter it,
    # and the socket path must stay short.
    base = Path(tempfile.mkdtemp(prefix="sd-dbfault-"))
    try:
        with private_cluster(base) as made:
            yield made
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_app_recovers_from_a_database_restart_without_losing_or_doubling_tickets(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = database_url(cluster.server, "servicedesk_dbfault")
    database_recreate(cluster.server, "servicedesk_dbfault")
    env = server_env(db_url, tmp_path / "var")
    key = app_prepare(env)
    headers = {"Authorization": f"Token {key}"}
    log = Log()
    stop = threading.Event()
    with app_server(env, tmp_path / "gunicorn.log", WORKERS) as server:
        workers_before = server.worker_pids()
        clients = [
            threading.Thread(target=_client, args=(server.port, headers, stop, log))
            for _ in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        try:
            time.sleep(BEFORE_S)
            acknowledged_before = len(log.acknowledged)
            went_down = time.monotonic()
            cluster.stop("fast")
            time.sleep(DOWN_S)
            cluster.start()  # returns once it accepts connections (pg_ctl -w)
            back_at = time.monotonic()
            time.sleep(AFTER_S)
        finally:
            stop.set()
            for client in clients:
                client.join(GIVE_UP_S + 10)
        # Restarted again while the app is idle: every worker still holds a
        # connection to the old server, and the first requests after it must not fail.
        cluster.stop("fast")
        cluster.start()
        idle_failures = _first_requests(server, headers, log)
        workers_after = server.worker_pids()
        replays = _replay_all(server, headers, log)
        log_tail = server.log_tail()

    failed = [a for a in log.attempts if a.status != 201]
    failed_after_restart = [a for a in failed if a.started >= back_at]
    retried_keys = {a.key for a in failed}
    refused = [a for a in failed if a.status is not None and a.status < 500]
    stored = rows(
        db_url,
        "SELECT split_part(subject, ' ', 1), number FROM tickets_ticket WHERE subject LIKE %s",
        PREFIX + "%",
    )
    records = rows(
        db_url,
        "SELECT key, response_body->>'number' FROM accounts_idempotencyrecord WHERE key LIKE %s",
        PREFIX + "%",
    )
    by_key: dict[str, list[str]] = {}
    for subject_key, number in stored:
        by_key.setdefault(subject_key, []).append(number)
    committed_before_failure = [
        a for a in log.attempts if a.status == 201 and a.replayed and a.key in retried_keys
    ]
    with capsys.disabled():
        print(
            f"\ndb restart: {len(log.acknowledged)} tickets acknowledged "
            f"({acknowledged_before} before the stop), {len(log.attempts)} POSTs; "
            f"{len(failed)} failed while the database was away "
            f"({sum(a.status is None for a in failed)} without an answer, "
            f"{sum(a.status is not None for a in failed)} with 5xx) and were retried "
            f"for {len(retried_keys)} keys; {len(committed_before_failure)} retries were "
            f"answered from the stored first result; failed after the restart: "
            f"{len(failed_after_restart)}, after a restart while idle: {len(idle_failures)}; "
            f"outage {back_at - went_down:.1f} s; "
            f"gunicorn workers {sorted(workers_before)} -> {sorted(workers_after)}"
        )

    assert not refused, f"refused requests: {refused[:5]}"
    assert not log.abandoned, f"keys never acknowledged: {log.abandoned[:5]}"
    assert failed, "no request failed: the database outage was not felt"
    assert not failed_after_restart, (
        f"requests failed after the database was back: {failed_after_restart[:5]}\n{log_tail}"
    )
    assert not idle_failures, f"first requests after an idle restart failed: {idle_failures}"
    assert workers_after == workers_before, "gunicorn restarted workers"
    # Every acknowledged ticket is stored, once, under the number the client got.
    assert {k: [n] for k, n in log.acknowledged.items()} == by_key
    assert sorted(records) == sorted(log.acknowledged.items())
    # A retry with the same key answers with the same ticket and creates nothing.
    assert replays == log.acknowledged
    assert len(
        rows(db_url, "SELECT 1 FROM tickets_ticket WHERE subject LIKE %s", PREFIX + "%")
    ) == (len(log.acknowledged))


def _first_requests(server: AppServer, headers: dict[str, str], log: Log) -> list[str]:
    """Rounds of concurrent creations, one attempt each, so every worker
    serves some: what failed."""
    failures: list[str] = []

    def once() -> None:
        key = f"{PREFIX}{uuid.uuid4()}"
        started = time.monotonic()
        try:
            answer = call(
                server.port,
                "POST",
                "/api/v1/tickets/",
                _body(key),
                {**headers, "Idempotency-Key": key},
            )
        except OSError as error:
            failures.append(f"{type(error).__name__}: {error}")
            return
        if answer.status != 201:
            failures.append(f"{answer.status}: {str(answer.body)[:200]}")
        else:
            log.add(Attempt(key, started, 201, number=answer.body["number"]))

    for _round in range(3):
        round_ = [threading.Thread(target=once) for _ in range(2 * server.workers)]
        for thread in round_:
            thread.start()
        for thread in round_:
            thread.join()
    return failures


def _replay_all(server: AppServer, headers: dict[str, str], log: Log) -> dict[str, str]:
    """Every acknowledged key sent again: the stored first answer, marked as a replay."""
    answers = {}
    for key in log.acknowledged:
        answer = call(
            server.port,
            "POST",
            "/api/v1/tickets/",
            _body(key),
            {**headers, "Idempotency-Key": key},
        )
        assert answer.status == 201 and answer.replayed, (key, answer.status, answer.body)
        answers[key] = answer.body["number"]
    return answers
