"""Fifty API clients at once for LOAD_SECONDS (default 60) against gunicorn on
loopback and PostgreSQL: each creates tickets (with an Idempotency-Key) and
works them (classify, assign, reply, wait for the customer, resume, sometimes
resolve), and all of them classify and annotate a few shared tickets at the
same time. Afterwards nothing may be missing, doubled or stale: every answer
was a success, every acknowledged ticket and message is stored once, each
ticket's state is the last one a client was shown, and every stored SLA due
time is what the SLA engine computes from the ticket's history.

The API has no If-Match: concurrent updates of one ticket are serialised by
row locks in the services, so no 409/412 is expected and any is an error."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.reliability.server_support import (
    Answer,
    Tally,
    app_prepare,
    app_server,
    call,
    database_recreate,
    database_url,
    percentile,
    reachable,
    rows,
    server_env,
    server_url,
    sla_check,
    unavailable,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
CLIENTS = 50
WORKERS = 4
DATABASE = "servicedesk_load"
PREFIX = "load-"
SHARED = 5  # tickets every client updates
# From the demo data (manage.py loaddemo).
CUSTOMERS = ["1000", "1010", "2000", "2020", "3030"]
STAFF = ["jr", "sr", "head", "cm", "itm"]
LEVELS = ["high", "medium", "low"]
TYPES = ["incident", "service_request", "information_request", "change_request"]


@dataclass
class Seen:
    """What a client was last shown of one ticket."""

    status: str
    priority: int
    assignee: str | None
    response_due_at: str | None
    resolution_due_at: str | None
    messages: int


@dataclass
class Run:
    port: int
    headers: dict[str, str]
    deadline: float
    tally: Tally = field(default_factory=Tally)
    created: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> number
    seen: dict[str, Seen] = field(default_factory=dict)  # number -> last answer
    shared: list[str] = field(default_factory=list)
    shared_notes: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, run: Run, seed: int) -> None:
        self.run = run
        self.rng = random.Random(seed)

    def send(
        self, kind: str, method: str, path: str, body: object, expect: int, key: str = ""
    ) -> Answer | None:
        headers = dict(self.run.headers)
        if key:
            headers["Idempotency-Key"] = key
        try:
            answer = call(self.run.port, method, path, body, headers)
        except OSError as error:
            self.run.tally.error(f"{kind} {method} {path}: {type(error).__name__}: {error}")
            return None
        self.run.tally.add(kind, answer)
        if answer.status != expect:
            self.run.tally.error(f"{kind} {method} {path}: {answer.status} {answer.body}"[:400])
            return None
        return answer

    def work(self) -> None:
        while time.monotonic() < self.run.deadline:
            self.own_ticket()
            self.shared_ticket()

    def own_ticket(self) -> None:
        rng, key = self.rng, f"{PREFIX}{uuid.uuid4()}"
        body = {
            "customer": rng.choice(CUSTOMERS),
            "subject": f"{key} mail does not arrive",
            "message": "Since this morning no mail arrives in the shared mailbox.",
            "type": rng.choice(TYPES),
            "impact": rng.choice(LEVELS),
            "urgency": rng.choice(LEVELS),
        }
        created = self.send("create", "POST", "/api/v1/tickets/", body, 201, key)
        if created is None:
            return
        number = created.body["number"]
        with self.run.lock:
            self.run.created[key] = number
        path = f"/api/v1/tickets/{number}/"
        steps: list[tuple[str, str, str, object, int, str]] = [
            (
                "classify",
                "PATCH",
                path,
                {"impact": rng.choice(LEVELS), "urgency": rng.choice(LEVELS)},
                200,
                "",
            ),
            ("assign", "PATCH", path, {"assignee": rng.choice(STAFF)}, 200, ""),
            (
                "reply",
                "POST",
                path + "messages/",
                {"body": "We are looking into it.", "public": True},
                201,
                key + "-reply",
            ),
            ("wait", "POST", path + "transitions/", {"to": "waiting_on_customer"}, 200, ""),
            ("resume", "POST", path + "transitions/", {"to": "open"}, 200, ""),
        ]
        if rng.random() < 0.5:
            resolve = {"to": "resolved", "resolution": "solved", "cause_code": "software"}
            steps.append(("resolve", "POST", path + "transitions/", resolve, 200, ""))
        messages = 1
        for kind, method, where, payload, expect, step_key in steps:
            if time.monotonic() >= self.run.deadline:
                break  # time is up: what the ticket holds is read back below
            if self.send(kind, method, where, payload, expect, step_key) is None:
                return
            messages += kind == "reply"
        final = self.send("get", "GET", path, None, 200)
        if final is not None:
            self.run.seen[number] = Seen(
                status=final.body["status"],
                priority=final.body["priority"],
                assignee=final.body["assignee"],
                response_due_at=final.body["response_due_at"],
                resolution_due_at=final.body["resolution_due_at"],
                messages=messages,
            )

    def shared_ticket(self) -> None:
        if time.monotonic() >= self.run.deadline:
            return
        number = self.rng.choice(self.run.shared)
        path = f"/api/v1/tickets/{number}/"
        levels = {"impact": self.rng.choice(LEVELS), "urgency": self.rng.choice(LEVELS)}
        self.send("shared classify", "PATCH", path, levels, 200)
        note = {"body": "Checked the queue again.", "public": False}
        key = f"{PREFIX}note-{uuid.uuid4()}"
        if self.send("shared note", "POST", path + "messages/", note, 201, key) is not None:
            with self.run.lock:
                self.run.shared_notes[number] = self.run.shared_notes.get(number, 0) + 1


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _shared_tickets(run: Run) -> None:
    for n in range(SHARED):
        body = {
            "customer": CUSTOMERS[n % len(CUSTOMERS)],
            "subject": f"{PREFIX}shared-{n} all printers offline",
            "message": "No printer on any floor answers.",
            "type": "incident",
        }
        answer = call(run.port, "POST", "/api/v1/tickets/", body, run.headers)
        assert answer.status == 201, answer.body
        run.shared.append(answer.body["number"])


def _server() -> str:
    db = settings.DATABASES["default"]
    return server_url(db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"], db["PASSWORD"])


def _figures(run: Run, seconds: float) -> str:
    tally = run.tally
    every = tally.all_latencies()
    kinds = ", ".join(
        f"{kind} {len(values)} (p50 {percentile(values, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(values, 0.95) * 1000:.0f} ms)"
        for kind, values in tally.latencies.items()
    )
    statuses: dict[int, int] = {}
    for by_status in tally.statuses.values():
        for code, count in by_status.items():
            statuses[code] = statuses.get(code, 0) + count
    return (
        f"load: {CLIENTS} clients for {seconds:.0f} s, {WORKERS} gunicorn workers: "
        f"{tally.requests} requests, {tally.requests / seconds:.1f} req/s, "
        f"p50 {percentile(every, 0.5) * 1000:.0f} ms, p95 {percentile(every, 0.95) * 1000:.0f} ms, "
        f"max {max(every, default=0) * 1000:.0f} ms; statuses {dict(sorted(statuses.items()))}; "
        f"errors {len(tally.errors)}; {len(run.created)} tickets created, "
        f"{sum(run.shared_notes.values())} notes on {SHARED} shared tickets; per kind: {kinds}"
    )


def test_fifty_clients_lose_nothing_double_nothing_and_keep_every_sla_due_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = _server()
    reason = reachable(server)
    if reason:
        unavailable(reason)
    db_url = database_url(server, DATABASE)
    database_recreate(server, DATABASE)
    env = server_env(db_url, tmp_path / "var")
    key = app_prepare(env)
    with app_server(env, tmp_path / "gunicorn.log", WORKERS) as app:
        run = Run(port=app.port, headers={"Authorization": f"Token {key}"}, deadline=0)
        _shared_tickets(run)
        started = time.monotonic()
        run.deadline = started + LOAD_SECONDS
        clients = [
            threading.Thread(target=Client(run, seed).work, name=f"client-{seed}")
            for seed in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(LOAD_SECONDS + 120)
        seconds = time.monotonic() - started
        log_tail = app.log_tail()
    figures = _figures(run, seconds)
    with capsys.disabled():
        print("\n" + figures)

    assert not any(client.is_alive() for client in clients), "a client hung"
    assert not run.tally.errors, (
        f"{len(run.tally.errors)} errors: {run.tally.errors[:10]}\n{log_tail}"
    )
    assert len(run.created) >= CLIENTS, figures

    stored = rows(
        db_url,
        "SELECT t.number, split_part(t.subject, ' ', 1), t.status, t.priority, u.username, "
        "t.response_due_at, t.resolution_due_at, "
        "(SELECT count(*) FROM tickets_message m WHERE m.ticket_id = t.id) "
        "FROM tickets_ticket t LEFT JOIN accounts_user u ON u.id = t.assignee_id "
        "WHERE t.subject LIKE %s",
        PREFIX + "%",
    )
    tickets = {row[0]: row for row in stored}
    # No ticket lost, none doubled: one per Idempotency-Key, under the acknowledged number.
    by_key: dict[str, list[str]] = {}
    for number, subject_key, *_rest in stored:
        if number not in run.shared:
            by_key.setdefault(subject_key, []).append(number)
    assert by_key == {k: [n] for k, n in run.created.items()}
    assert set(run.shared) <= tickets.keys()
    records = rows(
        db_url,
        "SELECT key, count(*) FROM accounts_idempotencyrecord WHERE key LIKE %s GROUP BY key",
        PREFIX + "%",
    )
    assert all(count == 1 for _key, count in records)
    assert {k for k, _count in records} >= run.created.keys()

    # Every ticket holds what its client was last shown; no message lost or doubled.
    stale: list[Any] = []
    for number, seen in run.seen.items():
        _n, _k, status, priority, assignee, response_due, resolution_due, messages = tickets[number]
        stored_state = (status, priority, assignee, response_due, resolution_due, messages)
        shown = (
            seen.status,
            seen.priority,
            seen.assignee,
            _moment(seen.response_due_at),
            _moment(seen.resolution_due_at),
            seen.messages,
        )
        if stored_state != shown:
            stale.append((number, stored_state, shown))
    assert not stale, stale[:5]
    assert len(run.seen) == len(run.created)
    for number in run.shared:
        assert tickets[number][7] == 1 + run.shared_notes.get(number, 0), number

    # Every stored SLA state is what the engine computes from the ticket's history.
    checked = sla_check(env, PREFIX)
    assert checked["checked"] == len(tickets)
    assert checked["with_due"] > 0
    assert checked["differences"] == {}
