from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.base import Personas
from tests.tickets.test_ticket_services import WED_10, cause, new_ticket
from tickets.kb_services import (
    article_create,
    article_link,
    article_update,
    problem_create,
    problem_link_incident,
    problem_transition,
)
from tickets.models import Article, Problem, ProblemStatus
from tickets.selectors import article_search
from tickets.services import ticket_create, ticket_transition

ARTICLE = {
    "title": "Mail bounces with SPF fail",
    "symptom": "Outgoing mail bounces: 550 SPF check failed",
    "cause": "The SPF record lacks the new relay",
    "solution": "Add include:relay.example.net to the SPF record",
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_articles_are_searched_and_counted_by_use(personas: Personas) -> None:
    spf = article_create(data=ARTICLE, actor=personas.sr, now=WED_10)
    article_create(
        data={
            **ARTICLE,
            "title": "Disk full",
            "symptom": "No space left",
            "cause": "",
            "solution": "Rotate logs",
        },
        actor=personas.sr,
        now=WED_10,
    )
    assert [a.title for a in article_search("SPF relay")] == [spf.title]
    ticket = new_ticket(personas)
    assert article_link(article=spf, ticket=ticket, actor=personas.jr, now=WED_10) is True
    assert article_link(article=spf, ticket=ticket, actor=personas.jr, now=WED_10) is False
    assert article_search("").first().title == spf.title  # type: ignore[union-attr]
    assert article_search("").first().uses == 1  # type: ignore[union-attr]


def test_an_article_needs_symptom_and_solution(personas: Personas) -> None:
    with pytest.raises(ValidationError) as error:
        article_create(data={"title": "x"}, actor=personas.sr, now=WED_10)
    assert {"symptom", "solution"} <= error.value.message_dict.keys()
    article = article_create(data=ARTICLE, actor=personas.sr, now=WED_10)
    with pytest.raises(ValidationError):
        article_update(article=article, data={"solution": " "}, actor=personas.sr, now=WED_10)


def test_the_ticket_page_searches_and_links_articles(personas: Personas) -> None:
    spf = article_create(data=ARTICLE, actor=personas.sr, now=WED_10)
    ticket = new_ticket(personas)
    client = logged_in(personas.jr)
    partial = client.get(
        f"/kb/search/?ticket={ticket.number}&q=bounces", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert spf.title in partial and "Link to ticket" in partial
    client.post(f"/tickets/{ticket.number}/articles/", {"article": str(spf.public_id)})
    assert ticket.articles.get() == spf
    assert spf.title in client.get(f"/tickets/{ticket.number}/").content.decode()
    assert str(ticket.number) in client.get(f"/kb/{spf.public_id}/").content.decode()


def test_kb_pages_create_and_edit(personas: Personas) -> None:
    client = logged_in(personas.sr)
    assert client.post("/kb/new/", {"title": "", "symptom": "", "solution": ""}).status_code == 200
    response = client.post("/kb/new/", ARTICLE)
    article = Article.objects.get()
    assert response["Location"] == f"/kb/{article.public_id}/"
    client.post(f"/kb/{article.public_id}/", {**ARTICLE, "is_workaround": "on"})
    article.refresh_from_db()
    assert article.is_workaround
    assert ARTICLE["title"] in client.get("/kb/?q=SPF").content.decode()


def test_problems_group_incidents_and_known_errors_carry_a_workaround(personas: Personas) -> None:
    first, second = new_ticket(personas), new_ticket(personas)
    problem = problem_create(
        title="Mail relay drops",
        description="Twice a week",
        actor=personas.sr,
        now=WED_10,
        incidents=[first],
    )
    assert problem.number == f"PRB-{problem.pk:06d}"
    problem_link_incident(problem=problem, ticket=second, actor=personas.sr, now=WED_10)
    assert set(problem.incidents.all()) == {first, second}
    info = new_ticket(personas, type="information_request")
    with pytest.raises(ValidationError, match="incidents"):
        problem_link_incident(problem=problem, ticket=info, actor=personas.sr, now=WED_10)
    with pytest.raises(ValidationError, match="workaround"):
        problem_transition(problem=problem, to="known_error", actor=personas.sr, now=WED_10)
    problem = problem_transition(
        problem=problem,
        to="known_error",
        workaround="Restart the relay",
        actor=personas.sr,
        now=WED_10,
    )
    assert problem.status == ProblemStatus.KNOWN_ERROR
    with pytest.raises(ValidationError):
        problem_transition(problem=problem, to="closed", actor=personas.sr, now=WED_10)
    with pytest.raises(ValidationError, match="root cause"):
        problem_transition(problem=problem, to="resolved", actor=personas.sr, now=WED_10)
    problem_transition(
        problem=problem,
        to="resolved",
        root_cause="Memory leak in relay",
        actor=personas.sr,
        now=WED_10,
    )


def test_resolving_as_problem_needs_a_linked_problem(personas: Personas) -> None:
    ticket = new_ticket(personas)
    with pytest.raises(ValidationError, match="problem record"):
        ticket_transition(
            ticket=ticket,
            to="resolved",
            resolution="problem",
            cause_code=cause(),
            actor=personas.jr,
            now=WED_10,
        )
    problem_create(
        title="Relay", description="d", actor=personas.sr, now=WED_10, incidents=[ticket]
    )
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="problem",
        cause_code=cause(),
        actor=personas.jr,
        now=WED_10,
    )


def test_problem_pages(personas: Personas) -> None:
    ticket = new_ticket(personas)
    client = logged_in(personas.sr)
    response = client.post(
        f"/problems/new/?ticket={ticket.number}", {"title": "Relay", "description": "drops"}
    )
    problem = Problem.objects.get()
    assert response["Location"] == f"/problems/{problem.number}/"
    assert problem.incidents.get() == ticket
    bad = client.post(f"/problems/{problem.number}/", {"to": "known_error", "workaround": ""})
    assert bad.status_code == 400 and "workaround" in bad.content.decode()
    missing = client.post(f"/problems/{problem.number}/", {"ticket": "T-999999"})
    assert "No ticket has this number." in missing.content.decode()
    client.post(f"/problems/{problem.number}/", {"to": "known_error", "workaround": "Restart"})
    problem.refresh_from_db()
    assert problem.status == "known_error"
    other = new_ticket(personas)
    client.post(f"/tickets/{other.number}/problem/", {"problem": str(problem.number)})
    assert problem.incidents.count() == 2
    assert "Restart" in client.get(f"/tickets/{other.number}/").content.decode()
    assert str(problem.number) in client.get("/problems/").content.decode()


def test_triage_gives_a_ticket_its_customer_and_sla(personas: Personas) -> None:
    ticket = ticket_create(
        customer=None,
        subject="Help",
        message="From an unknown address",
        type="incident",
        channel="email",
        reply_to="someone@unknown.example",
        actor=None,
        now=WED_10,
    )
    assert ticket.needs_triage and ticket.resolution_due_at is None
    client = logged_in(personas.jr)
    assert "unknown: triage" in client.get(f"/tickets/{ticket.number}/").content.decode()
    bad = client.post(f"/tickets/{ticket.number}/triage/", {"customer": "4242"})
    assert bad.status_code == 400
    client.post(f"/tickets/{ticket.number}/triage/", {"customer": "2000"})
    ticket.refresh_from_db()
    assert (ticket.customer, ticket.needs_triage) == (personas.other_customer, False)
    assert ticket.resolution_due_at is not None
