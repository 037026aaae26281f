from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.base import Personas
from tests.tickets.test_ticket_services import WED_10, new_ticket
from tickets.models import Ticket
from tickets.selectors import ticket_search
from tickets.services import ticket_message_add


def found(query: str) -> set[str]:
    return {t.number or "" for t in ticket_search(Ticket.objects.all(), query)}


def make_tickets(personas: Personas) -> tuple[Ticket, Ticket, Ticket]:
    mail = new_ticket(personas, subject="Mail queue stuck on mx02.hoogendijk.nl")
    web = new_ticket(personas, customer=personas.customer, subject="Webshop slow")
    ticket_message_add(
        ticket=web,
        body="The database server db01.example.net is swapping",
        public=False,
        actor=personas.jr,
        now=WED_10,
    )
    other = new_ticket(personas, subject="Printer")
    return mail, web, other


def test_search_finds_subject_message_customer_and_number(personas: Personas) -> None:
    mail, web, other = make_tickets(personas)
    assert found("mx02.hoogendijk.nl") == {mail.number}
    assert found("db01.example.net") == {web.number}  # in a message
    assert found("1000") == {web.number}  # customer number
    assert found(str(other.number)) == {other.number}
    assert found(str(other.number).removeprefix("T-")) >= {other.number}
    assert found("") == {mail.number, web.number, other.number}


def test_the_queue_and_the_api_search(personas: Personas) -> None:
    mail, web, _other = make_tickets(personas)
    client = Client()
    client.force_login(personas.jr)
    page = client.get("/queue/?q=mx02.hoogendijk.nl").content.decode()
    assert str(mail.number) in page and str(web.number) not in page
    api = APIClient()
    api.force_authenticate(personas.jr)
    results = api.get("/api/v1/tickets/?search=swapping").json()["results"]
    assert [t["number"] for t in results] == [web.number]


@pytest.mark.postgres
def test_postgres_search_uses_full_text_and_trigram_indexes(personas: Personas) -> None:
    make_tickets(personas)
    words = str(ticket_search(Ticket.objects.all(), "database swapping").query)
    assert "@@" in words  # full-text match on the stored document
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM tickets_ticket WHERE search_vector @@ "
            "websearch_to_tsquery('simple', 'swapping')"
        )
        fts_plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN SELECT id FROM tickets_ticket WHERE number LIKE '%000001%'")
        trigram_plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "ticket_search_fts_idx" in fts_plan
    assert "ticket_number_trgm_idx" in trigram_plan


def test_cursor_pages_walk_the_list_without_gaps_or_repeats(personas: Personas) -> None:
    for index in range(12):
        new_ticket(personas, now=WED_10 + timedelta(minutes=index))
    api = APIClient()
    api.force_authenticate(personas.jr)
    api.get("/api/v1/tickets/")  # permissions cached
    seen: list[str] = []
    url: str | None = "/api/v1/tickets/?cursor=&page_size=5"
    queries: list[int] = []
    while url:
        with CaptureQueriesContext(connection) as captured:
            page = api.get(url).json()
        queries.append(len(captured))
        assert "count" not in page  # no COUNT(*) over the whole table
        seen += [t["number"] for t in page["results"]]
        url = page["next"]
    assert len(seen) == 12 == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first
    assert len(set(queries)) == 1  # a deep page costs what the first costs
    numbered = api.get("/api/v1/tickets/?page=2&page_size=5").json()
    assert numbered["count"] == 12 and len(numbered["results"]) == 5


@pytest.mark.postgres
def test_a_new_ticket_is_written_once_complete_and_keeps_its_document(
    personas: Personas,
) -> None:
    with CaptureQueriesContext(connection) as queries:
        ticket = new_ticket(personas, subject="Printer jams", message="The laserwriter jams")
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert writes == []  # number, due times and document are in the INSERT
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.number == f"T-{ticket.pk:06d}" and stored.response_due_at is not None
    assert found("laserwriter") == {ticket.number}
    ticket_message_add(
        ticket=Ticket.objects.get(pk=ticket.pk),
        body="Replaced the toner",
        public=True,
        actor=personas.jr,
        now=WED_10 + timedelta(minutes=5),
    )
    assert found("toner") == {ticket.number}
    ticket.subject = "Printer jams again"
    ticket.save()  # the instance from the service: the stored document stays as it is
    assert found("toner") == {ticket.number} and found("laserwriter") == {ticket.number}
