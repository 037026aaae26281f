"""Knowledge base articles and problem records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from events.services import event_record
from tickets.models import (
    PROBLEM_TRANSITIONS,
    Article,
    ArticleLink,
    Problem,
    ProblemStatus,
    Ticket,
    TicketType,
)

ARTICLE_FIELDS = ("title", "symptom", "cause", "solution", "is_workaround")


def _article_check(data: dict[str, Any]) -> None:
    errors = {
        field: _("This field is required.")
        for field in ("title", "symptom", "solution")
        if not str(data.get(field, "")).strip()
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def article_create(*, data: dict[str, Any], actor: Any, now: datetime) -> Article:
    _article_check(data)
    article = Article.objects.create(
        **{field: data.get(field, "") for field in ARTICLE_FIELDS if field in data},
        author=actor if getattr(actor, "_meta", None) is not None else None,
        created_at=now,
        updated_at=now,
    )
    event_record(obj=article, kind="article.created", actor=actor, now=now)
    return article


@transaction.atomic
def article_update(*, article: Article, data: dict[str, Any], actor: Any, now: datetime) -> Article:
    merged = {field: data.get(field, getattr(article, field)) for field in ARTICLE_FIELDS}
    _article_check(merged)
    changed = [field for field in ARTICLE_FIELDS if getattr(article, field) != merged[field]]
    for field in changed:
        setattr(article, field, merged[field])
    article.updated_at = now
    article.save()
    if changed:
        event_record(
            obj=article, kind="article.updated", actor=actor, now=now, data={"changed": changed}
        )
    return article


def article_link(*, article: Article, ticket: Ticket, actor: Any, now: datetime) -> bool:
    """Link an article to a ticket it helped with; linking twice is a no-op.
    Returns whether a new link was made (the article's use count grows)."""
    try:
        with transaction.atomic():
            ArticleLink.objects.create(
                article=article,
                ticket=ticket,
                linked_by=actor if getattr(actor, "_meta", None) is not None else None,
                linked_at=now,
            )
            event_record(
                obj=ticket,
                kind="ticket.article_linked",
                actor=actor,
                now=now,
                data={"article": str(article.public_id), "title": article.title},
            )
    except IntegrityError:
        return False
    return True


@transaction.atomic
def problem_create(
    *,
    title: str,
    description: str,
    actor: Any,
    now: datetime,
    incidents: list[Ticket] | None = None,
) -> Problem:
    errors = {}
    if not title.strip():
        errors["title"] = _("A problem needs a title.")
    if not description.strip():
        errors["description"] = _("Describe the recurring failure.")
    if errors:
        raise ValidationError(errors)
    problem = Problem.objects.create(
        title=title.strip(),
        description=description.strip(),
        owner=actor if getattr(actor, "_meta", None) is not None else None,
        created_at=now,
        updated_at=now,
    )
    problem.number = f"PRB-{problem.pk:06d}"
    Problem.objects.filter(pk=problem.pk).update(number=problem.number)
    event_record(obj=problem, kind="problem.created", actor=actor, now=now, to_state="open")
    for ticket in incidents or []:
        problem_link_incident(problem=problem, ticket=ticket, actor=actor, now=now)
    return problem


@transaction.atomic
def problem_link_incident(*, problem: Problem, ticket: Ticket, actor: Any, now: datetime) -> None:
    """Group a recurring incident under the problem."""
    if ticket.type != TicketType.INCIDENT:
        raise ValidationError({"ticket": _("Only incidents are grouped under a problem.")})
    if problem.status == ProblemStatus.CLOSED:
        raise ValidationError({"ticket": _("This problem is closed.")})
    if problem.incidents.filter(pk=ticket.pk).exists():
        return
    problem.incidents.add(ticket)
    event_record(
        obj=problem,
        kind="problem.incident_linked",
        actor=actor,
        now=now,
        data={"ticket": ticket.number},
    )
    event_record(
        obj=ticket,
        kind="ticket.problem_linked",
        actor=actor,
        now=now,
        data={"problem": problem.number},
    )


@transaction.atomic
def problem_transition(
    *,
    problem: Problem,
    to: str,
    actor: Any,
    now: datetime,
    workaround: str | None = None,
    root_cause: str | None = None,
) -> Problem:
    """The one place a problem's status changes. A known error carries the
    workaround; a resolved problem states its root cause."""
    problem = Problem.objects.select_for_update().get(pk=problem.pk)
    if to not in PROBLEM_TRANSITIONS.get(problem.status, set()):
        raise ValidationError(
            {
                "to": _("A problem that is %(from)s cannot become %(to)s.")
                % {
                    "from": ProblemStatus(problem.status).label,
                    "to": ProblemStatus(to).label if to in ProblemStatus.values else to,
                }
            }
        )
    if workaround is not None:
        problem.workaround = workaround.strip()
    if root_cause is not None:
        problem.root_cause = root_cause.strip()
    if to == ProblemStatus.KNOWN_ERROR and not problem.workaround:
        raise ValidationError({"workaround": _("A known error needs its workaround.")})
    if to == ProblemStatus.RESOLVED and not problem.root_cause:
        raise ValidationError({"root_cause": _("Record the root cause that was removed.")})
    from_state = problem.status
    problem.status, problem.updated_at = to, now
    problem.save()
    event_record(
        obj=problem,
        kind="problem.transition",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
    )
    return problem
