"""The in-process parts of `make bench` (imported by bench.run after
django.setup()): the bench users with their sessions and API token, the
measured URLs picked from the data, queries per request through the test
client, the SLA sweeps with an explicit `now`, the data's figures, and
removing what the creation test made."""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken, Customer, User
from accounts.roles import Role, roles_sync
from accounts.services import api_token_create
from bench.load import Request
from events.models import Event
from reports import periods
from tickets.models import ACTIVE_STATUSES, Ticket, TicketStatus
from tickets.sla_services import SWEEPS, sla_sweep

ENGINEER = "bench-engineer"
CUSTOMER_USER = "bench-customer"
TOKEN_NAME = "bench-load"  # noqa: S105 (the token's name, not its key)
# Tickets made by the creation test carry this subject and are removed after the run.
CREATED_SUBJECT = "Bench: VPN drops every few minutes"
SEARCH_WORD = "vpn"
SWEEP_KINDS = ["ticket.sla_warning", "ticket.sla_breached"]
MARKERS = [sweep[3] for sweep in SWEEPS]
FLAGS = sorted({sweep[4] for sweep in SWEEPS if sweep[4]})


@dataclass
class Actors:
    engineer: User
    customer_user: User
    customer: Customer
    customer_tickets: int
    engineer_cookie: str
    customer_cookie: str
    token: str


@dataclass
class Endpoint:
    name: str
    label: str
    path: str
    actor: str  # engineer | customer | token | none
    method: str = "GET"
    body: str = ""

    def request(self, actors: Actors) -> Request:
        return Request(
            name=self.name,
            path=self.path,
            method=self.method,
            cookie={"engineer": actors.engineer_cookie, "customer": actors.customer_cookie}.get(
                self.actor, ""
            ),
            auth=f"Token {actors.token}" if self.actor == "token" else "",
            body=self.body,
        )


def _session_cookie(user: User) -> str:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def actors_prepare() -> Actors:
    """An engineer who may also read the reports (IT manager), a customer user
    of the customer with the most tickets, their sessions, and an API token."""
    roles_sync()
    biggest = (
        Ticket.objects.filter(customer__isnull=False)
        .values("customer")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if biggest is None:
        raise RuntimeError("no tickets with a customer: seed the database first")
    customer = Customer.objects.get(pk=biggest["customer"])
    engineer, _ = User.objects.update_or_create(
        username=ENGINEER,
        defaults={"is_staff": True, "first_name": "Bench", "password": make_password(None)},
    )
    engineer.groups.set(Group.objects.filter(name__in=[Role.ENGINEER, Role.IT_MANAGER]))
    customer_user, _ = User.objects.update_or_create(
        username=CUSTOMER_USER,
        defaults={"is_staff": False, "customer": customer, "password": make_password(None)},
    )
    ApiToken.objects.filter(name=TOKEN_NAME).delete()
    issued = api_token_create(name=TOKEN_NAME, scopes="tickets:read,tickets:write")
    return Actors(
        engineer=engineer,
        customer_user=customer_user,
        customer=customer,
        customer_tickets=biggest["n"],
        engineer_cookie=_session_cookie(engineer),
        customer_cookie=_session_cookie(customer_user),
        token=issued.key,
    )


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def _deep_cursor(depth: int) -> str:
    """A cursor of the API list (ordering -created_at, -id) `depth` rows down,
    encoded as DRF's CursorPagination does ("p=<created_at>", base64)."""
    position = (
        Ticket.objects.order_by("-created_at", "-id")
        .values_list("created_at", flat=True)[depth : depth + 1]
        .first()
    )
    token = base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")
    return quote(token, safe="")


def endpoints(actors: Actors, *, now: datetime) -> list[Endpoint]:
    """What is measured, with ids and names picked from the data."""
    tickets = Ticket.objects.count()
    # The open ticket with the longest conversation, the newest of those (seed_bulk
    # gives every open ticket two messages).
    ticket = _scalar(
        "SELECT t.number FROM tickets_ticket t WHERE t.status = 'open' ORDER BY "
        "(SELECT count(*) FROM tickets_message m WHERE m.ticket_id = t.id) DESC, t.id DESC "
        "LIMIT 1"
    )
    messages = Ticket.objects.get(number=ticket).messages.count()
    busiest = _scalar(
        "SELECT u.username FROM tickets_ticket t JOIN accounts_user u ON u.id = t.assignee_id "
        "WHERE NOT (t.status = 'closed') GROUP BY u.username ORDER BY count(*) DESC LIMIT 1"
    )
    month = periods.previous_month(now)
    body = json.dumps(
        {
            "customer": actors.customer.number,
            "subject": CREATED_SUBJECT,
            "message": "Since this morning the VPN drops every few minutes. Please have a look.",
            "type": "incident",
            "impact": "medium",
            "urgency": "high",
        }
    )
    return [
        Endpoint("queue", "Triage queue, default filter", "/queue/", "engineer"),
        Endpoint("queue_open", "Triage queue, status open", "/queue/?status=open", "engineer"),
        Endpoint("queue_breached", "Triage queue, breached", "/queue/?breached=true", "engineer"),
        Endpoint(
            "queue_assignee",
            "Triage queue, one engineer's tickets",
            f"/queue/?assignee={busiest}",
            "engineer",
        ),
        Endpoint(
            "ticket", f"Ticket page (open, {messages} messages)", f"/tickets/{ticket}/", "engineer"
        ),
        Endpoint(
            "portal_list",
            f"Portal ticket list of the largest customer ({actors.customer_tickets:,} tickets)",
            "/portal/tickets/",
            "customer",
        ),
        Endpoint("api_list", "API ticket list, first page", "/api/v1/tickets/", "token"),
        Endpoint(
            "api_deep",
            f"API ticket list, cursor page {tickets // 2:,} rows deep",
            f"/api/v1/tickets/?cursor={_deep_cursor(tickets // 2)}",
            "token",
        ),
        Endpoint(
            "api_filtered",
            "API ticket list, status open",
            "/api/v1/tickets/?status=open",
            "token",
        ),
        Endpoint(
            "api_search",
            f"API ticket list, search '{SEARCH_WORD}'",
            f"/api/v1/tickets/?search={SEARCH_WORD}",
            "token",
        ),
        Endpoint(
            "api_create", "API ticket creation", "/api/v1/tickets/", "token", "POST", body=body
        ),
        Endpoint(
            "dashboard",
            f"KPI dashboard, month {month:%Y-%m}",
            f"/reports/?kind=month&day={month.isoformat()}",
            "engineer",
        ),
        Endpoint(
            "search",
            f"Full-text search in the queue, '{SEARCH_WORD}'",
            f"/queue/?q={SEARCH_WORD}",
            "engineer",
        ),
        Endpoint("floor", "Floor: the queue's 25 rows by one raw query", "/bench/floor/", "none"),
    ]


def _client(endpoint: Endpoint, actors: Actors) -> Client:
    client = Client(HTTP_HOST="localhost")
    if endpoint.actor == "engineer":
        client.force_login(actors.engineer)
    elif endpoint.actor == "customer":
        client.force_login(actors.customer_user)
    elif endpoint.actor == "token":
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {actors.token}"
    return client


def _call(client: Client, endpoint: Endpoint) -> Any:
    if endpoint.method == "POST":
        return client.post(endpoint.path, endpoint.body, content_type="application/json")
    return client.get(endpoint.path)


def in_process(endpoint: Endpoint, actors: Actors) -> dict[str, Any]:
    """Queries of one request (after a warm-up), their SQL time, and the
    request's time in-process (no HTTP): the median of three."""
    client = _client(endpoint, actors)
    response = _call(client, endpoint)
    if response.status_code >= 300:
        return {"status": response.status_code, "error": f"HTTP {response.status_code}"}
    times = []
    for _ in range(3):
        started = time.perf_counter()
        _call(client, endpoint)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        _call(client, endpoint)
    sql = [float(q["time"]) * 1000 for q in captured.captured_queries]
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:2]
    return {
        "queries": len(captured),
        "inproc_ms": round(statistics.median(times), 1),
        "sql_ms": round(sum(sql), 1),
        "slowest_sql_ms": round(max(sql, default=0.0), 1),
        "slowest_sql": [q["sql"] for q in slowest],
    }


def explain(sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a SELECT; other statements are not run again."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT: not explained)"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- the SLA sweep --------------------------------------------------------------------


def _pending(moment: str, marker: str, extra: Q) -> Any:
    """Rows a sweep of this kind would announce at some `now` (its partial index)."""
    return Ticket.objects.filter(
        Q(status__in=ACTIVE_STATUSES), extra, **{f"{marker}__isnull": True}
    ).exclude(**{f"{moment}__isnull": True})


def _due(now: datetime) -> Q:
    """Tickets with anything to announce at `now`: the four sweeps' filters, or-ed."""
    due = Q(pk__in=[])
    for _target, _kind, moment, marker, _flag, extra in SWEEPS:
        due |= (
            Q(status__in=ACTIVE_STATUSES)
            & extra
            & Q(**{f"{marker}__isnull": True, f"{moment}__lt": now})
        )
    return due


@contextmanager
def _counting() -> Iterator[list[int]]:
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, ctx)

    with connection.execute_wrapper(wrapper):
        yield count


def sweep_idle(*, now: datetime, runs: int = 21) -> dict[str, Any]:
    """A sweep that finds nothing: `now` is the earliest moment still to be
    announced (the filter is `moment < now`), or the present when that is later."""
    earliest = [
        _pending(moment, marker, extra).order_by(moment).values_list(moment, flat=True).first()
        for _target, _kind, moment, marker, _flag, extra in SWEEPS
    ]
    at = min([now, *(moment for moment in earliest if moment is not None)])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        counts = sla_sweep(now=at)
        times.append((time.perf_counter() - started) * 1000)
        if any(counts.values()):
            raise RuntimeError(f"the idle sweep found work: {counts}")
    with _counting() as queries:
        sla_sweep(now=at)
    return {
        "ms": round(statistics.median(times), 2),
        "queries": queries[0],
        "runs": runs,
        "now": at.isoformat(),
    }


def _bulk_moment(count: int) -> datetime | None:
    """The `now` at which `count` announcements are due at once (all there are
    when fewer): just after the count-th earliest pending moment of the four kinds."""
    moments: list[datetime] = []
    for _target, _kind, moment, marker, _flag, extra in SWEEPS:
        moments += (
            _pending(moment, marker, extra).order_by(moment).values_list(moment, flat=True)[:count]
        )
    if not moments:
        return None
    moments.sort()
    return moments[min(count, len(moments)) - 1] + timedelta(microseconds=1)


def sweep_bulk(*, count: int = 10_000) -> dict[str, Any] | None:
    """`count` warnings and breaches due at once, announced by consecutive
    sla_sweep runs (each up to 40 batches of 500 per kind) until one finds nothing. The tickets'
    markers and flags are put back and the events removed afterwards, so the
    data stays as seeded."""
    now = _bulk_moment(count)
    if now is None:
        return None
    before = list(Ticket.objects.filter(_due(now)).values("id", *MARKERS, *FLAGS))
    totals: dict[str, int] = {}
    runs = 0
    try:
        with _counting() as queries:
            started = time.perf_counter()
            while True:
                counts = sla_sweep(now=now)
                runs += 1
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
                if not any(counts.values()):
                    break
            seconds = time.perf_counter() - started
    finally:
        _sweep_restore(before, now)
    return {
        "seconds": round(seconds, 2),
        "announcements": sum(totals.values()),
        "breaches": sum(v for k, v in totals.items() if k.endswith("breached")),
        "warnings": sum(v for k, v in totals.items() if k.endswith("warning")),
        "tickets": len(before),
        "runs": runs,
        "queries": queries[0],
        "counts": totals,
        "now": now.isoformat(),
    }


def _sweep_restore(before: list[dict[str, Any]], now: datetime) -> None:
    ids = [row["id"] for row in before]
    ticket_type = ContentType.objects.get_for_model(Ticket)
    columns = [*MARKERS, *FLAGS]
    assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
    with transaction.atomic():
        for chunk in _chunks(ids, 5000):
            Event.objects.filter(
                content_type=ticket_type, object_id__in=chunk, kind__in=SWEEP_KINDS, created_at=now
            ).delete()
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE tickets_ticket SET {assignments} WHERE id = %s",  # noqa: S608
                [[row[c] for c in columns] + [row["id"]] for row in before],
            )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def created_tickets_remove() -> int:
    """The tickets the creation test made (this run's, or an interrupted run's),
    with their conversation and events."""
    ids = list(Ticket.objects.filter(subject=CREATED_SUBJECT).values_list("id", flat=True))
    ticket_type = ContentType.objects.get_for_model(Ticket)
    for chunk in _chunks(ids, 2000):
        with transaction.atomic():
            Event.objects.filter(content_type=ticket_type, object_id__in=chunk).delete()
            Ticket.objects.filter(id__in=chunk).delete()
    return len(ids)


# --- what was measured ------------------------------------------------------------------


def data_figures(name: str) -> dict[str, Any]:
    by_status = dict(
        Ticket.objects.values_list("status").annotate(n=Count("id")).order_by("status")
    )
    total = sum(by_status.values())
    return {
        "name": name,
        "tickets": total,
        "unclosed": total - by_status.get(TicketStatus.CLOSED, 0),
        "active (new, open, escalated)": sum(by_status.get(s, 0) for s in ACTIVE_STATUSES),
        "by status": ", ".join(f"{k} {v:,}" for k, v in sorted(by_status.items())),
        "customers": Customer.objects.count(),
        "messages": _scalar("SELECT count(*) FROM tickets_message"),
        "events": _scalar("SELECT count(*) FROM events_event"),
        "tickets without a full-text document": _scalar(
            "SELECT count(*) FROM tickets_ticket WHERE search_vector IS NULL"
        ),
        "database size MB": round(_scalar("SELECT pg_database_size(current_database())") / 2**20),
        "tickets_ticket with indexes MB": round(
            _scalar("SELECT pg_total_relation_size('tickets_ticket')") / 2**20
        ),
    }


def postgres_settings() -> dict[str, str]:
    names = ["shared_buffers", "work_mem", "effective_cache_size", "jit", "synchronous_commit"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [names]
        )
        return dict(cursor.fetchall())


def postgres_version() -> str:
    return str(_scalar("SHOW server_version"))
