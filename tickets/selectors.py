"""Reads of tickets and tasks that depend on who asks."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from events.models import Event
from events.services import history_of
from tickets.models import Article, Message, Problem, Task, TaskStatus, Ticket, TicketStatus


def tasks_visible_to(user: Any) -> QuerySet[Task]:
    """Staff see every task (work is shared and handed over); nobody else any."""
    if not getattr(user, "is_staff", False):
        return Task.objects.none()
    return Task.objects.select_related("assignee", "creator", "parent", "link_type").annotate(
        open_subtasks=Count("subtasks", filter=Q(subtasks__status=TaskStatus.OPEN))
    )


def task_box(*, user: Any, status: str = TaskStatus.OPEN) -> QuerySet[Task]:
    """A person's own task box, due first (no due date last), then oldest."""
    return (
        tasks_visible_to(user)
        .filter(assignee=user, status=status)
        .order_by("due_date", "created_at")
    )


def task_get(*, user: Any, public_id: str | uuid.UUID) -> Task:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404("No such task") from None
    task = tasks_visible_to(user).filter(public_id=key).first()
    if task is None:
        raise Http404("No such task")
    return task


def tickets_visible_to(user: Any) -> QuerySet[Ticket]:
    """Staff and integration clients see every ticket; a customer user only
    their company's; anyone else none."""
    # The full-text document is for searching, never shown: not read.
    qs = Ticket.objects.select_related("customer", "assignee", "department", "cause_code").defer(
        "search_vector"
    )
    if getattr(user, "customer_id", None):
        return qs.filter(customer_id=user.customer_id)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def ticket_get(*, user: Any, number: str) -> Ticket:
    ticket = tickets_visible_to(user).filter(number=number).first()
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def ticket_messages(*, ticket: Ticket, user: Any) -> QuerySet[Message]:
    """The conversation; customers never see internal notes."""
    qs = ticket.messages.select_related("author").prefetch_related("attachments")
    if getattr(user, "customer_id", None):
        qs = qs.filter(public=True)
    return qs.order_by("created_at", "id")


# Either SLA target missed; the queue, its counters and the API filter share it.
BREACHED = Q(response_breached=True) | Q(resolution_breached=True)


def queue_tickets(*, user: Any, filters: dict[str, Any]) -> QuerySet[Ticket]:
    """The triage queue for `user`: unclosed tickets (or one status), narrowed
    by the queue's filters (search, priority, type, customer, assignee,
    breached), in queue order."""
    qs = ticket_search(tickets_visible_to(user), filters.get("q") or "")
    status = filters.get("status")
    qs = qs.filter(status=status) if status else qs.exclude(status=TicketStatus.CLOSED)
    if filters.get("priority"):
        qs = qs.filter(priority=filters["priority"])
    if filters.get("type"):
        qs = qs.filter(type=filters["type"])
    if filters.get("customer"):
        qs = qs.filter(customer__number=filters["customer"].strip())
    if filters.get("assignee"):
        # By id, not through a join on the name: then the assignee's partial
        # index hands over their unclosed tickets already in queue order.
        assignee = (
            User.objects.filter(username=filters["assignee"].strip())
            .values_list("id", flat=True)
            .first()
        )
        qs = qs.filter(assignee_id=assignee) if assignee else qs.none()
    if filters.get("breached") is not None:
        qs = qs.filter(BREACHED) if filters["breached"] else qs.exclude(BREACHED)
    return queue_order(qs)


QUEUE_COUNTERS_KEY = "tickets:queue-counters:staff"


def queue_counters(*, user: Any) -> dict[str, int]:
    """The queue's counters. The team's figures are one aggregate over every
    unclosed ticket: at 100,000 of them that costs tens of milliseconds, so
    staff (who all see every ticket) share one result for
    QUEUE_COUNTERS_SECONDS. The user's own count is live (an index range)."""
    unclosed = tickets_visible_to(user).exclude(status=TicketStatus.CLOSED)
    team = {
        "total": Count("id"),
        "unclassified": Count("id", filter=Q(classified=False)),
        "unassigned": Count("id", filter=Q(assignee__isnull=True)),
        "breached": Count("id", filter=BREACHED),
        "waiting": Count("id", filter=Q(status=TicketStatus.WAITING_ON_CUSTOMER)),
    }
    seconds = settings.QUEUE_COUNTERS_SECONDS
    shared = getattr(user, "is_staff", False) and not getattr(user, "customer_id", None)
    counters = cache.get(QUEUE_COUNTERS_KEY) if shared and seconds else None
    if counters is None:
        counters = unclosed.order_by().aggregate(**team)
        if shared and seconds:
            cache.set(QUEUE_COUNTERS_KEY, counters, seconds)
    mine = unclosed.filter(assignee=user).order_by().count() if user.pk else 0
    return {**counters, "mine": mine}


# What a queue row shows (templates/tickets/_queue.html): a narrow row is
# half the cost of reading the page at a million tickets.
QUEUE_ROW_FIELDS = [
    "number",
    "subject",
    "status",
    "priority",
    "classified",
    "needs_triage",
    "reply_to",
    "is_managed",
    "created_at",
    "resolution_due_at",
    "resolution_breached",
    "response_breached",
    "resolved_at",
    "customer__number",
    "customer__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
]


def queue_rows(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The queue's tickets with only the columns a row shows."""
    return qs.select_related(None).select_related("customer", "assignee").only(*QUEUE_ROW_FIELDS)


def queue_order(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Triage order: unclassified first, then by resolution due time (paused
    tickets, without a due time, last), managed customers first at equal
    due time, then priority and age."""
    return qs.order_by(
        "classified",
        F("resolution_due_at").asc(nulls_last=True),
        "-is_managed",
        "priority",
        "created_at",
    )


# The SLA targets by their stored key, named in the reader's language.
TARGET_LABELS = {"response": lambda: _("response"), "resolution": lambda: _("resolution")}

SLA_EVENT_KINDS = [
    "ticket.created",
    "ticket.classified",
    "ticket.transition",
    "ticket.message",
    "ticket.extension_approved",
    "ticket.contract_changed",
    "ticket.sla_warning",
    "ticket.sla_breached",
]


def sla_timeline(ticket: Ticket) -> list[dict[str, Any]]:
    """Every moment that moved or marked the SLA clock, explained."""
    entries: list[dict[str, Any]] = []
    for event in history_of(ticket).filter(kind__in=SLA_EVENT_KINDS).order_by("created_at", "id"):
        text = _timeline_text(event)
        if text:
            entries.append(
                {
                    "at": event.created_at,
                    "text": text,
                    "kind": event.kind,
                    "actor": event.actor_label,
                }
            )
    return entries


def _timeline_text(event: Event) -> str:
    data, kind = event.data, event.kind
    if kind == "ticket.created":
        return _("Clock started: P%(p)s under contract %(c)s.") % {
            "p": data.get("priority"),
            "c": data.get("contract") or "—",
        }
    if kind == "ticket.classified" and event.from_state != event.to_state:
        return _("Priority %(from)s → %(to)s: targets now count from the creation time.") % {
            "from": event.from_state,
            "to": event.to_state,
        }
    if kind == "ticket.message" and data.get("first_response"):
        return _("First public reply: the response target is met here.")
    if kind == "ticket.contract_changed":
        return _("Contract %(from)s → %(to)s: due times recomputed.") % {
            "from": event.from_state or "—",
            "to": event.to_state or "—",
        }
    if kind == "ticket.extension_approved":
        return _("Extension approved: resolution due moved to %(until)s.") % {
            "until": date_format(parse_datetime(data["until"]), "SHORT_DATETIME_FORMAT")  # type: ignore[arg-type]
        }
    if kind in ("ticket.sla_warning", "ticket.sla_breached"):
        label = _("Warning") if kind.endswith("warning") else _("Breach")
        return _("%(label)s on the %(target)s target.") % {
            "label": label,
            "target": TARGET_LABELS[data["target"]]()
            if data.get("target") in TARGET_LABELS
            else "",
        }
    if kind == "ticket.transition":
        if event.to_state == "waiting_on_customer":
            return _("Clock paused: waiting on the customer.")
        if event.from_state == "waiting_on_customer" and event.to_state != "resolved":
            return _("Clock resumed.")
        if event.to_state == "resolved":
            return _("Resolved: the resolution clock stops.")
        if event.from_state == "resolved" and event.to_state == "open":
            return _("Reopened: the time since the resolution counts as a pause.")
    return ""


TICKET_NUMBER = re.compile(r"^T-?\d+$", re.IGNORECASE)
DIGITS = re.compile(r"^\d+$")


def ticket_search(qs: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Tickets matching `query` in subject, messages, customer or references.

    PostgreSQL: full-text search over each ticket's stored document (GIN
    index) plus trigram matching (pg_trgm GIN indexes) for identifiers such
    as ticket numbers and hostnames in subjects. SQLite: plain filters."""
    query = query.strip()[:200]
    if not query:
        return qs
    if TICKET_NUMBER.match(query):
        digits = query.upper().removeprefix("T").lstrip("-")
        return qs.filter(number__contains=digits)
    if connection.vendor == "postgresql":
        # Every branch of the OR on an index of the ticket table, so PostgreSQL
        # can OR bitmaps instead of scanning: the document (GIN), the subject
        # by a case-blind regex (the trigram GIN index serves ~*, not
        # UPPER(..) LIKE) and the customer by its id (a join in an OR forces a
        # scan of every ticket).
        words = SearchQuery(query, config="simple", search_type="websearch")
        customers = list(Customer.objects.filter(number=query).values_list("id", flat=True))
        indexed = Q(search_vector=words) | Q(subject__iregex=re.escape(query))
        if customers:
            indexed |= Q(customer_id__in=customers)
        if DIGITS.match(query):  # a ticket number without its "T-"
            indexed |= Q(number__contains=query)
        return qs.filter(indexed)
    identifier = Q(subject__icontains=query) | Q(customer__number=query)
    if DIGITS.match(query):
        # A customer number, or a ticket number without its "T-".
        identifier |= Q(number__contains=query)
    return qs.filter(
        identifier
        | Q(customer__name__icontains=query)
        | Q(pk__in=Message.objects.filter(body__icontains=query).values("ticket_id"))
    )


def article_search(query: str) -> QuerySet[Article]:
    """Knowledge-base articles for a query, most used first. PostgreSQL uses
    the full-text expression index of migration 0006; SQLite a plain filter."""
    qs = Article.objects.annotate(uses=Count("links"))
    query = query.strip()[:200]
    if not query:
        return qs.order_by("-uses", "title")
    if connection.vendor == "postgresql":
        match = RawSQL(
            "to_tsvector('simple', title || ' ' || symptom || ' ' || cause || ' ' || solution)"
            " @@ websearch_to_tsquery('simple', %s)",
            [query],
            output_field=BooleanField(),
        )
        return qs.filter(match).order_by("-uses", "title")
    words = Q()
    for word in query.split()[:8]:
        words &= (
            Q(title__icontains=word)
            | Q(symptom__icontains=word)
            | Q(cause__icontains=word)
            | Q(solution__icontains=word)
        )
    return qs.filter(words).order_by("-uses", "title")


def problems_list() -> QuerySet[Problem]:
    return Problem.objects.annotate(incident_count=Count("incidents")).order_by(
        "status", "-created_at"
    )
