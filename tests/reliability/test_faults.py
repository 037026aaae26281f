"""Faults: exactly once and broker down (docs/reliability.md).

Real Celery workers, beats and gunicorn run as subprocesses against the test's
PostgreSQL database and a redis-server of the test's own. Workers are killed
with SIGKILL in the middle of the SLA sweep, the daily backup checks and the
mail sender, at a point the test chose and waited for (a database trigger or
the recording mail backend holds the worker there); a fresh worker finishes
the work. The same tasks run twice at once, from two workers and from two
beats. With Redis stopped, tickets come in through the portal, the API and
mail-in; their mails wait in the outbox and go out once Redis is back.

Afterwards every SLA warning and breach exists once per ticket, every daily
check once per group and day, and every notification was accepted by the
mail server once (counted per Message-ID by the recording backend), except in
the one window documented and shown below.
"""

from __future__ import annotations

import http.client
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone

from accounts.models import Customer
from accounts.services import api_token_create
from backups.models import BackupCheck, BackupJob, ResponsibilityGroup
from events.models import Event, Notification, NotificationStatus
from events.services import notification_message_id
from servicedesk.celery import app
from tests.backups.factories import make_job
from tests.base import Personas, make_personas
from tests.reliability.faults_support import (
    REDIS_SERVER,
    ROOT,
    DbStall,
    Fleet,
    RedisServer,
    database_url,
    fleet,
    free_port,
    seed_beat_schedule,
    sent_per_message_id,
    unavailable,
    wait_for,
)
from tickets.models import Task, Ticket
from tickets.services import ticket_create
from tickets.task_services import task_create

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

SLA_KINDS = {
    ("ticket.sla_breached", "response"),
    ("ticket.sla_breached", "resolution"),
    ("ticket.sla_warning", "response"),
    ("ticket.sla_warning", "resolution"),
}
# Environment of the test run that must not reach the subprocesses.
_NOT_INHERITED = ("REDIS_CACHE_URL", "CELERY_TASK_ALWAYS_EAGER", "MEDIA_ROOT", "DEBUG")
FIGURES: dict[str, str] = {}


@dataclass
class Faults:
    redis: RedisServer
    fleet: Fleet
    client: Celery
    url: str
    mail_log: Path
    marker: Path
    tmp: Path
    stall_keys: Iterator[int] = field(default_factory=lambda: iter(range(7100, 7200)))

    def send(self, task: str) -> None:
        """As beat sends: nobody waits for the result."""
        self.client.send_task(task, ignore_result=True)

    def start(self, task: str) -> Any:
        return self.client.send_task(task)

    def run(self, task: str, timeout: float = 90) -> Any:
        result = self.start(task)
        try:
            return result.get(timeout=timeout)
        except Exception as error:
            raise AssertionError(f"{task} failed: {error}\n{self.tails()}") from error

    def tails(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in self.fleet.logs()
            if log.exists()
        )

    def stall(self, name: str, table: str, when: str) -> DbStall:
        return DbStall(self.url, name=name, table=table, when=when, key=next(self.stall_keys))

    def settled(self) -> bool:
        """Every event fanned out, every notification sent, no task waiting."""
        return (
            not Event.objects.filter(processed_at__isnull=True).exists()
            and not Notification.objects.exclude(status=NotificationStatus.SENT).exists()
            and self.redis.client().llen("celery") == 0
        )

    def settle(self, what: str) -> None:
        wait_for(self.settled, what=what, timeout=120, logs=self.fleet.logs())


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    """The figures of the run, for docs/reliability.md."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not FIGURES:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_sep("-", "faults: exactly once and broker down")
        for name, line in FIGURES.items():
            reporter.write_line(f"{name}: {line}")


@pytest.fixture
def faults(
    tmp_path: Path, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Faults]:
    if REDIS_SERVER is None:
        unavailable("needs redis-server (apt-get install redis-server)")
    # The test's own set-up (personas, tickets, tasks) enqueues nothing: the
    # broker under test is the private one the subprocesses use.
    monkeypatch.setattr("servicedesk.lib.tasks._publish", lambda task, args: None)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    url = database_url(connection.settings_dict)
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        DATABASE_URL=url,
        REDIS_URL=redis.url,
        VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=settings.SECRET_KEY,
        EMAIL_BACKEND="tests.reliability.faults_support.RecordingBackend",
        FAULTS_MAIL_LOG=str(tmp_path / "mail.jsonl"),
        FAULTS_MAIL_MARKER=str(tmp_path / "mail-stalled"),
        # The worker runs at the real time of day: the day's checks are due at once.
        BACKUP_CHECK_HOUR="0",
        LOG_LEVEL="INFO",
    )
    client = Celery(broker=redis.url, backend=redis.url)
    client.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        # Redis is stopped on purpose: the client must not retry it for seconds.
        result_backend_transport_options={"retry_policy": {"max_retries": 0}},
    )
    try:
        with fleet(tmp_path, env) as processes:
            yield Faults(
                redis=redis,
                fleet=processes,
                client=client,
                url=url,
                mail_log=tmp_path / "mail.jsonl",
                marker=tmp_path / "mail-stalled",
                tmp=tmp_path,
            )
    finally:
        # A result unsubscribes from Redis whenever it is collected, perhaps
        # in a later test, when this Redis is gone: end the subscriptions here.
        consumer: Any = client.backend.result_consumer  # type: ignore[attr-defined]
        consumer.stop()
        consumer._pubsub = None
        client.close()
        redis.stop()


# --- Data ------------------------------------------------------------------------------


def overdue_tickets(personas: Personas, count: int) -> list[Ticket]:
    """Tickets opened a month ago: both warnings and both breaches are due."""
    opened = timezone.now() - timedelta(days=30)
    return [
        ticket_create(
            customer=personas.other_customer,
            subject=f"Overdue {n}",
            message="Nobody answered.",
            type="incident",
            channel="phone",
            impact="medium",
            urgency="medium",
            actor=personas.jr,
            now=opened + timedelta(minutes=n),
        )
        for n in range(count)
    ]


def backup_groups(personas: Personas, count: int) -> list[tuple[ResponsibilityGroup, BackupJob]]:
    people = [personas.jr, personas.sr, personas.head, personas.cm]
    made = []
    for n in range(count):
        group = ResponsibilityGroup.objects.create(
            code=f"g{n:02d}", name=f"Group {n:02d}", responsible=people[n % len(people)]
        )
        made.append((group, make_job(personas, group, f"host{n:02d}-mysql")))
    return made


def assigned_tasks(personas: Personas, count: int) -> list[Task]:
    """Each task mails its assignee once (task.created)."""
    people = [personas.jr, personas.sr, personas.head, personas.cm]
    return [
        task_create(
            title=f"Renew certificate {n}",
            assignee=people[n % len(people)],
            actor=personas.itm,
            now=timezone.now(),
        )
        for n in range(count)
    ]


# --- Checks ------------------------------------------------------------------------------


def sla_events_per_ticket(tickets: list[Ticket]) -> dict[int, Counter[tuple[str, str]]]:
    found: dict[int, Counter[tuple[str, str]]] = {t.pk: Counter() for t in tickets}
    for object_id, kind, data in Event.objects.filter(kind__startswith="ticket.sla_").values_list(
        "object_id", "kind", "data"
    ):
        found[object_id][(kind, data["target"])] += 1
    return found


def assert_sla_exactly_once(tickets: list[Ticket]) -> int:
    for ticket_id, kinds in sla_events_per_ticket(tickets).items():
        assert kinds == Counter(dict.fromkeys(SLA_KINDS, 1)), (ticket_id, kinds)
    return 4 * len(tickets)


def assert_checks_exactly_once(groups: list[tuple[ResponsibilityGroup, BackupJob]]) -> date:
    checks = list(BackupCheck.objects.values_list("group_id", "day", "task_id"))
    days = {day for _group, day, _task in checks}
    assert len(days) == 1, days
    assert sorted(group for group, _day, _task in checks) == sorted(g.pk for g, _job in groups)
    assert all(task is not None for _group, _day, task in checks)
    created = Event.objects.filter(kind="backup_check.created")
    assert sorted(created.values_list("object_id", flat=True)) == sorted(
        pk for pk, *_ in BackupCheck.objects.values_list("pk")
    )
    assert Task.objects.filter(title__startswith="Check backups").count() == len(groups)
    return days.pop()


def assert_mails_exactly_once(faults: Faults, duplicates: Counter[str] | None = None) -> int:
    """Every notification SENT, and the mail server accepted each once (per
    Message-ID), but for the expected `duplicates`."""
    notifications = list(Notification.objects.all())
    assert all(n.status == NotificationStatus.SENT for n in notifications), Counter(
        n.status for n in notifications
    )
    sent = sent_per_message_id(faults.mail_log)
    expected = Counter({notification_message_id(n): 1 for n in notifications})
    expected.update(duplicates or Counter())
    assert sent == expected, {k: v for k, v in (sent - expected).items()} or (expected - sent)
    return len(notifications)


def stop_and_count(faults: Faults) -> int:
    """Stop every process; the number of duplicates seen (must be 0)."""
    faults.fleet.stop_all()
    return sum(n - 1 for n in sent_per_message_id(faults.mail_log).values() if n > 1)


# --- Killed in the middle ------------------------------------------------------------------


def test_a_worker_killed_in_the_sla_sweep_leaves_each_warning_and_breach_once(
    faults: Faults,
) -> None:
    personas = make_personas()
    tickets = overdue_tickets(personas, 10)
    middle = tickets[4]
    # The breaches are swept before the warnings: the worker stops at the
    # fifth ticket's response warning with every breach committed.
    with faults.stall(
        "sweep",
        "events_event",
        f"NEW.kind = 'ticket.sla_warning' AND NEW.object_id = {middle.pk}",
    ) as stall:
        faults.fleet.worker("worker-1")
        faults.send("tickets.sweep_sla")
        stalled = wait_for(
            stall.stalled, what="the sweep reaches the fifth warning", logs=faults.fleet.logs()
        )
        assert Event.objects.filter(kind="ticket.sla_breached").count() == 2 * len(tickets)
        warnings = Event.objects.filter(kind="ticket.sla_warning")
        warnings_before_kill = warnings.count()
        assert warnings_before_kill < len(tickets)  # response warnings come first
        faults.fleet.kill("worker-1")
        stall.release()
        wait_for(lambda: stall.gone(stalled), what="PostgreSQL ends the killed worker's session")
    # What the killed worker had not committed is gone.
    assert Event.objects.filter(kind="ticket.sla_warning").count() == warnings_before_kill
    assert Ticket.objects.filter(pk=middle.pk, response_warned_at__isnull=True).exists()

    faults.fleet.worker("worker-2")  # the restart; beat's next tick:
    again = faults.run("tickets.sweep_sla")
    assert again == {
        "response_breached": 0,
        "resolution_breached": 0,
        "response_warning": len(tickets) - warnings_before_kill,
        "resolution_warning": len(tickets),
    }
    assert faults.run("tickets.sweep_sla") == dict.fromkeys(again, 0)
    faults.settle("the sweep's mails go out")
    events = assert_sla_exactly_once(tickets)
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults)
    FIGURES["sweep killed"] = (
        f"{len(tickets)} tickets, {events} SLA events (warnings committed before the kill: "
        f"{warnings_before_kill}), {mails} notifications, kills {faults.fleet.kills}, "
        f"duplicates {duplicates}"
    )


def test_a_worker_killed_in_the_daily_checks_leaves_one_check_per_group(faults: Faults) -> None:
    personas = make_personas()
    groups = backup_groups(personas, 5)
    _group, job = groups[2]
    # Inside the third group's transaction: its check row is written (and
    # holds the unique index) but not committed when the worker dies.
    with faults.stall("checks", "backups_checkline", f"NEW.job_id = {job.pk}") as stall:
        faults.fleet.worker("worker-1")
        faults.send("backups.create_daily_checks")
        stalled = wait_for(
            stall.stalled, what="the checks reach the third group", logs=faults.fleet.logs()
        )
        assert BackupCheck.objects.count() == 2
        faults.fleet.kill("worker-1")
        stall.release()
        wait_for(lambda: stall.gone(stalled), what="PostgreSQL ends the killed worker's session")
    assert BackupCheck.objects.count() == 2

    faults.fleet.worker("worker-2")
    assert faults.run("backups.create_daily_checks")["created"] == 3
    assert faults.run("backups.create_daily_checks")["created"] == 0
    faults.run("events.send_notifications")
    faults.settle("the checks' task mails go out")
    assert_checks_exactly_once(groups)
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults)
    FIGURES["daily checks killed"] = (
        f"{len(groups)} groups, {BackupCheck.objects.count()} checks (2 committed before the "
        f"kill), {mails} notifications, kills {faults.fleet.kills}, duplicates {duplicates}"
    )


def _kill_the_sender_at_the_fifth_mail(faults: Faults, *, after_accept: bool) -> Notification:
    personas = make_personas()
    assigned_tasks(personas, 12)
    faults.fleet.worker(
        "worker-1",
        {
            "FAULTS_MAIL_STALL_AT": "5",
            "FAULTS_MAIL_STALL_AFTER_ACCEPT": "1" if after_accept else "",
        },
    )
    faults.send("events.send_notifications")
    wait_for(faults.marker.exists, what="the fifth mail stalls", logs=faults.fleet.logs())
    assert len(sent_per_message_id(faults.mail_log)) == (5 if after_accept else 4)
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    assert statuses == {"sent": 4, "sending": 1, "pending": 7}, statuses
    faults.fleet.kill("worker-1")
    stuck = Notification.objects.get(status=NotificationStatus.SENDING)
    assert faults.marker.read_text() == notification_message_id(stuck)
    # The claim timeout passes (moved back rather than waited for): the
    # claim of the dead sender is handed out again.
    Notification.objects.filter(pk=stuck.pk).update(
        claimed_at=F("claimed_at") - settings.NOTIFICATION_CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    faults.fleet.worker("worker-2")
    faults.run("events.send_notifications")
    faults.settle("the rest of the mails go out")
    assert faults.run("events.send_notifications") == {"written": 0, "sent": 0}
    return stuck


def test_a_sender_killed_before_the_mail_server_accepted_sends_each_mail_once(
    faults: Faults,
) -> None:
    stuck = _kill_the_sender_at_the_fifth_mail(faults, after_accept=False)
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults)
    stuck.refresh_from_db()
    assert stuck.attempts == 2  # claimed by the dead sender and by the new one
    assert duplicates == 0
    FIGURES["sender killed before acceptance"] = (
        f"{mails} notifications, kills {faults.fleet.kills}, duplicates {duplicates}"
    )


def test_a_sender_killed_after_the_mail_server_accepted_resends_with_the_same_message_id(
    faults: Faults,
) -> None:
    """The one at-least-once window: accepted by the mail server, not yet
    marked sent. The copy carries the same Message-ID, so the receiving side
    can drop it."""
    stuck = _kill_the_sender_at_the_fifth_mail(faults, after_accept=True)
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults, Counter({notification_message_id(stuck): 1}))
    assert duplicates == 1
    FIGURES["sender killed after acceptance"] = (
        f"{mails} notifications, kills {faults.fleet.kills}, copies {duplicates} "
        "(the killed one, same Message-ID)"
    )


# --- Twice at once ---------------------------------------------------------------------------


def both_met(stall: DbStall, results: list[Any]) -> bool:
    """One run is held at the stall, inside its transaction, and the other
    has run into it: waiting for a lock (the stall, or a row the first holds)
    or already finished, having skipped what the first holds."""
    return bool(stall.stalled()) and (
        stall.waiting_on_locks() >= 2 or any(result.ready() for result in results)
    )


def test_the_same_tasks_twice_at_once_do_everything_once(faults: Faults) -> None:
    """Two workers run the same task at the same moment: the first is held
    at the first row it writes, inside its transaction, until the second has
    run into it; then both go on."""
    personas = make_personas()
    tickets = overdue_tickets(personas, 10)
    groups = backup_groups(personas, 4)
    assigned_tasks(personas, 8)
    faults.fleet.worker("worker-1")
    faults.fleet.worker("worker-2")
    faults.fleet.ready("worker-1")
    faults.fleet.ready("worker-2")

    with faults.stall("twice_sweep", "events_event", "NEW.kind LIKE 'ticket.sla_%'") as stall:
        sweeps = [faults.start("tickets.sweep_sla") for _ in range(2)]
        wait_for(
            lambda: both_met(stall, sweeps),
            what="the second sweep runs into the first",
            logs=faults.fleet.logs(),
        )
        stall.release()
        counts = [result.get(timeout=90) for result in sweeps]
    assert {key: sum(c[key] for c in counts) for key in counts[0]} == dict.fromkeys(
        counts[0], len(tickets)
    )

    with faults.stall("twice_checks", "backups_backupcheck", "true") as stall:
        runs = [faults.start("backups.create_daily_checks") for _ in range(2)]
        wait_for(
            lambda: both_met(stall, runs),
            what="the second check run runs into the first",
            logs=faults.fleet.logs(),
        )
        stall.release()
        created = [result.get(timeout=90)["created"] for result in runs]
    assert sum(created) == len(groups), created

    senders = [faults.start("events.send_notifications") for _ in range(2)]
    for result in senders:
        result.get(timeout=90)
    faults.settle("every mail goes out")
    events = assert_sla_exactly_once(tickets)
    assert_checks_exactly_once(groups)
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults)
    FIGURES["twice at once (two workers)"] = (
        f"{len(tickets)} tickets, {events} SLA events (split {counts}), {len(groups)} checks "
        f"(split {created}), {mails} notifications, duplicates {duplicates}"
    )


def test_two_beats_at_once_do_everything_once(faults: Faults) -> None:
    """Two beat processes (as when a second host starts one by mistake),
    both after downtime, so each sends every scheduled task at once."""
    personas = make_personas()
    tickets = overdue_tickets(personas, 10)
    groups = backup_groups(personas, 4)
    assigned_tasks(personas, 8)
    faults.fleet.worker("worker-1")
    faults.fleet.worker("worker-2")
    yesterday = timezone.now() - timedelta(days=1)
    for name in ("beat-1", "beat-2"):
        seed_beat_schedule(app, faults.tmp / f"{name}.schedule", yesterday)
    faults.fleet.beat("beat-1", faults.tmp / "beat-1.schedule")
    faults.fleet.beat("beat-2", faults.tmp / "beat-2.schedule")
    for name in ("beat-1", "beat-2"):
        for entry in ("sweep-sla", "create-backup-checks", "send-notifications"):
            sent = f"Sending due task {entry} "
            wait_for(
                partial(faults.fleet.count_in_log, name, sent),
                what=f"{name} sends {entry}",
                logs=faults.fleet.logs(),
            )
    faults.fleet.stop("beat-1")
    faults.fleet.stop("beat-2")

    def ran(task: str) -> int:
        return sum(
            len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", log.read_text()))
            for log in (faults.fleet.log("worker-1"), faults.fleet.log("worker-2"))
        )

    wait_for(
        lambda: ran("tickets.sweep_sla") == 2 and ran("backups.create_daily_checks") == 2,
        what="both beats' sweeps and checks ran",
        timeout=120,
        logs=faults.fleet.logs(),
    )
    faults.settle("every mail goes out")
    events = assert_sla_exactly_once(tickets)
    assert_checks_exactly_once(groups)
    senders = ran("events.send_notifications")
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults)
    FIGURES["two beats"] = (
        f"{len(tickets)} tickets, {events} SLA events, {len(groups)} checks, {mails} "
        f"notifications; sweeps run 2, check runs 2, sender runs {senders}; "
        f"duplicates {duplicates}"
    )


# --- Broker down --------------------------------------------------------------------------------

MAIL = (ROOT / "tests/tickets/mails/plain-known-customer.eml").read_bytes()


def ticket_mails(tickets: list[Ticket]) -> list[str]:
    """The recipients of the sent acknowledgements of `tickets`."""
    return sorted(
        Notification.objects.filter(
            event__kind="ticket.created",
            event__object_id__in=[t.pk for t in tickets],
            status=NotificationStatus.SENT,
        ).values_list("recipient", flat=True)
    )


def _http(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes, float]:
    started = timezone.now()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        content = response.read()
        seconds = (timezone.now() - started).total_seconds()
        return response.status, dict(response.getheaders()), content, seconds
    finally:
        conn.close()


def _portal_ticket(port: int, session: str) -> tuple[str, float]:
    status, headers, page, _ = _http(
        port, "GET", "/portal/tickets/new/", headers={"Cookie": f"sessionid={session}"}
    )
    assert status == 200, page[:500]
    csrf = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf and token
    form = urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "type": "incident",
            "subject": "Printer offline while Redis is down",
            "message": "It stopped at nine.",
            "requested_priority": "",
        }
    ).encode()
    status, headers, page, seconds = _http(
        port,
        "POST",
        "/portal/tickets/new/",
        form,
        {
            "Cookie": f"sessionid={session}; csrftoken={csrf.group(1)}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert status == 302, page[:2000]
    number = re.search(r"/portal/tickets/(T-\d+)/", headers["Location"])
    assert number
    return number.group(1), seconds


def _api_ticket(port: int, token: str, subject: str) -> tuple[str, float]:
    body = {
        "customer": "1000",
        "subject": subject,
        "message": "Monitoring lost the VPN.",
        "type": "incident",
        "channel": "api",
        "category": "network",
        "impact": "medium",
        "urgency": "medium",
    }
    status, _headers, content, seconds = _http(
        port,
        "POST",
        "/api/v1/tickets/",
        json.dumps(body).encode(),
        {"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    assert status == 201, content[:2000]
    return json.loads(content)["number"], seconds


def test_with_redis_down_tickets_come_in_and_their_mails_go_out_once_it_is_back(
    faults: Faults,
) -> None:
    personas = make_personas()
    Customer.objects.filter(pk=personas.customer.pk).update(email="desk@hoogendijk.example")
    token = api_token_create(name="monitoring", scopes="tickets:write").key
    browser = Client()
    browser.force_login(personas.customer_user)
    session = browser.cookies["sessionid"].value

    faults.redis.stop()
    port = free_port()
    faults.fleet.web("web", port)

    portal, portal_s = _portal_ticket(port, session)
    api, api_s = _api_ticket(port, token, "VPN down while Redis is down")
    eml = faults.tmp / "mail-in.eml"
    eml.write_bytes(MAIL.replace(b"4711@example.test", b"4711.faults@example.test"))
    started = timezone.now()
    ingested = faults.fleet.command("ingest_mail", "--file", str(eml))
    mail_s = (timezone.now() - started).total_seconds()
    assert ingested.returncode == 0, ingested.stderr
    mail_in = re.search(r" created (T-\d+)", ingested.stdout)
    assert mail_in, ingested.stdout
    numbers = [portal, api, mail_in.group(1)]
    # Nothing waited for the broker: each try failed at once and was logged.
    assert max(portal_s, api_s) < 3, (portal_s, api_s)
    assert faults.fleet.count_in_log("web", "could not enqueue events.send_notifications") == 2
    assert "could not enqueue events.send_notifications" in ingested.stderr

    tickets = list(Ticket.objects.filter(number__in=numbers))
    assert len(tickets) == 3
    waiting = Event.objects.filter(
        kind="ticket.created", object_id__in=[t.pk for t in tickets], processed_at__isnull=True
    )
    assert waiting.count() == 3  # in the outbox
    assert not Notification.objects.exists()

    # Redis is back (empty: what it held is lost); beat's next tick sends.
    faults.redis.start()
    faults.fleet.worker("worker")
    seed_beat_schedule(app, faults.tmp / "beat.schedule", timezone.now() - timedelta(days=1))
    faults.fleet.beat("beat", faults.tmp / "beat.schedule")
    faults.settle("the outbox empties once Redis is back")
    faults.fleet.stop("beat")
    assert ticket_mails(tickets) == sorted(
        [personas.customer_user.email, "desk@hoogendijk.example", "customer1@example.test"]
    )

    # The same web process reaches the broker again without a restart: the
    # new ticket's mail goes out through the task it enqueued, not beat.
    later, _seconds = _api_ticket(port, token, "VPN down again")
    tickets.append(Ticket.objects.get(number=later))
    faults.settle("the new ticket's mail goes out")
    assert faults.fleet.count_in_log("web", "could not enqueue") == 2
    assert faults.run("events.send_notifications") == {"written": 0, "sent": 0}
    duplicates = stop_and_count(faults)
    mails = assert_mails_exactly_once(faults)
    assert len(ticket_mails(tickets)) == 4
    FIGURES["broker down"] = (
        f"tickets {numbers} + {later} (portal {portal_s:.2f} s, API {api_s:.2f} s, "
        f"mail-in command {mail_s:.1f} s with Redis down), {mails} notifications, "
        f"duplicates {duplicates}"
    )
