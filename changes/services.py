"""Writes for changes: submission, classification, advice, decision, outcome."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from accounts.roles import Role
from accounts.selectors import users_in_role
from changes import classifier
from changes.cab import cab_review_emergency, change_put_on_agenda
from changes.models import (
    CHANGE_TRANSITIONS,
    Change,
    ChangeStatus,
    Classification,
    Decision,
)
from changes.selectors import freeze_windows_for
from events.services import actor_label, event_record
from tickets import sla
from tickets.models import Ticket
from tickets.services import priority_for
from tickets.task_services import task_close, task_create

OUTCOMES = {ChangeStatus.IMPLEMENTED, ChangeStatus.FAILED, ChangeStatus.ROLLED_BACK}
_BUSINESS_HOURS = sla.business_hours()


def outside_business_hours(start: datetime | None, end: datetime | None) -> bool:
    """Whether any part of the planned window falls outside Mon-Fri 08:30-17:30
    (Dutch public holidays closed)."""
    if start is None or end is None:
        return False
    return sla.business_time_between(_BUSINESS_HOURS, start, end) < end - start


def _classify(answers: dict[str, bool], justifications: dict[str, str]) -> str:
    result = classifier.classify(answers, justifications)
    if result.missing_justifications:
        raise ValidationError(
            {
                "justification": _("Justify every yes: %(questions)s.")
                % {"questions": ", ".join(result.missing_justifications)}
            }
        )
    return result.classification


@transaction.atomic
def change_submit(
    *,
    subject: str,
    message: str,
    impact: str,
    urgency: str,
    answers: dict[str, bool],
    justifications: dict[str, str],
    actor: Any,
    now: datetime,
    customer: Customer | None = None,
    ticket: Ticket | None = None,
    emergency: bool = False,
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    implementation_plan: str = "",
    rollback_plan: str = "",
    affected_machines: list[str] | None = None,
    estimated_cost: Decimal | None = None,
    estimated_hours: Decimal | None = None,
) -> Change:
    """A new change. Major changes go to the change manager (a task with a
    summary) and wait for the CAB; minor ones are the engineer's to carry out."""
    errors: dict[str, str] = {}
    if not subject.strip():
        errors["subject"] = _("A change needs a subject.")
    if not message.strip():
        errors["message"] = _("Describe the change.")
    if planned_start and planned_end and planned_end <= planned_start:
        errors["planned_end"] = _("The planned end must lie after the planned start.")
    customer_id = getattr(actor, "customer_id", None)
    if customer_id and (customer is None or customer.pk != customer_id):
        errors["customer"] = _("You can only request changes for your own company.")
    if errors:
        raise ValidationError(errors)
    classification = _classify(answers, justifications)
    change = Change.objects.create(
        subject=subject.strip(),
        message=message.strip(),
        requester=actor if isinstance(actor, User) else None,
        requester_label=actor_label(actor),
        customer=customer,
        ticket=ticket,
        affected_machines=sorted({m.strip().lower() for m in affected_machines or [] if m.strip()}),
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact=impact, urgency=urgency),
        **answers,
        justifications={q: justifications[q].strip() for q in answers if answers[q]},
        classification=classification,
        emergency=emergency,
        planned_start=planned_start,
        planned_end=planned_end,
        implementation_plan=implementation_plan,
        rollback_plan=rollback_plan,
        estimated_cost=estimated_cost,
        estimated_hours=estimated_hours,
        created_at=now,
        updated_at=now,
    )
    change.number = f"C-{change.pk:06d}"
    Change.objects.filter(pk=change.pk).update(number=change.number)
    event_record(
        obj=change,
        kind="change.submitted",
        actor=actor,
        now=now,
        to_state=ChangeStatus.SUBMITTED,
        data={"classification": classification, "emergency": emergency},
    )
    if classification == Classification.MAJOR:
        _to_change_manager(change, actor, now)
        _transition(change, ChangeStatus.AWAITING_CAB, actor, now, "major change")
        change_put_on_agenda(change=change, now=now)
    return change


def _to_change_manager(change: Change, actor: Any, now: datetime) -> None:
    """The change manager receives a task with a summary of the major change."""
    manager = users_in_role(Role.CHANGE_MANAGER).first()
    if manager is None:
        return
    yes = [classifier.QUESTIONS[q] for q, answer in change.answers.items() if answer]
    summary = "\n".join(
        [
            change.message,
            "",
            *[f"- {question}" for question in yes],
            "",
            _("Emergency: decide at once.") if change.emergency else _("On the next CAB agenda."),
        ]
    )
    task_create(
        title=_("Major change %(number)s: %(subject)s")
        % {"number": change.number, "subject": change.subject},
        description=summary,
        assignee=manager,
        actor=actor if isinstance(actor, User) and actor.is_staff else None,
        now=now,
        link=change,
    )


def _lock(change: Change) -> Change:
    return Change.objects.select_for_update().get(pk=change.pk)


def _transition(change: Change, to: str, actor: Any, now: datetime, reason: str = "") -> Change:
    if to not in CHANGE_TRANSITIONS[change.status]:
        raise ValidationError(
            {
                "status": _("A change that is %(from)s cannot become %(to)s.")
                % {"from": ChangeStatus(change.status).label, "to": ChangeStatus(to).label}
            }
        )
    if (
        to == ChangeStatus.IN_PROGRESS
        and change.status == ChangeStatus.SUBMITTED
        and change.classification == Classification.MAJOR
    ):
        raise ValidationError({"status": _("A major change needs approval first.")})
    from_state = change.status
    change.status, change.updated_at = to, now
    change.save(update_fields=["status", "updated_at"])
    event_record(
        obj=change,
        kind="change.transition",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
        reason=reason,
    )
    return change


@transaction.atomic
def change_answers_update(
    *,
    change: Change,
    answers: dict[str, bool],
    justifications: dict[str, str],
    actor: Any,
    now: datetime,
) -> Change:
    """New answers before the decision: the classification is computed again."""
    change = _lock(change)
    if change.decision or change.status not in (ChangeStatus.SUBMITTED, ChangeStatus.AWAITING_CAB):
        raise ValidationError({"answers": _("The answers are fixed once the change is decided.")})
    before = change.classification
    change.classification = _classify(answers, justifications)
    for question, value in answers.items():
        setattr(change, question, value)
    change.justifications = {q: justifications[q].strip() for q in answers if answers[q]}
    change.updated_at = now
    change.save()
    event_record(
        obj=change,
        kind="change.reclassified",
        actor=actor,
        now=now,
        from_state=before,
        to_state=change.classification,
    )
    if change.classification == Classification.MAJOR and change.status == ChangeStatus.SUBMITTED:
        _to_change_manager(change, actor, now)
        _transition(change, ChangeStatus.AWAITING_CAB, actor, now, "became major")
        change_put_on_agenda(change=change, now=now)
    return change


@transaction.atomic
def change_advise(
    *,
    change: Change,
    technically_feasible: bool,
    within_budget: bool,
    remarks: str,
    actor: Any,
    now: datetime,
) -> Any:
    """A CAB member's advice; a member may revise it until the decision."""
    from changes.models import Advice

    if not actor.has_perm("changes.advise_change"):
        raise PermissionDenied(_("Only CAB members advise on changes."))
    change = _lock(change)
    if change.status != ChangeStatus.AWAITING_CAB:
        raise ValidationError({"change": _("Advice is given while the change awaits the CAB.")})
    advice, _created = Advice.objects.update_or_create(
        change=change,
        member=actor,
        defaults={
            "technically_feasible": technically_feasible,
            "within_budget": within_budget,
            "remarks": remarks.strip(),
            "given_at": now,
        },
    )
    event_record(
        obj=change,
        kind="change.advice",
        actor=actor,
        now=now,
        data={"technically_feasible": technically_feasible, "within_budget": within_budget},
        reason=remarks,
    )
    return advice


@transaction.atomic
def change_decide(
    *,
    change: Change,
    decision: str,
    actor: Any,
    now: datetime,
    argumentation: str = "",
    alternatives: str = "",
) -> Change:
    """The change manager decides a major change. Approval needs an
    implementation and a rollback plan (for every major change and for any
    change planned outside business hours); rejection needs argumentation and
    alternatives. The change manager's task is closed as "akkoord"."""
    if not actor.has_perm("changes.decide_change"):
        raise PermissionDenied(_("Only the change manager decides on changes."))
    change = _lock(change)
    errors: dict[str, str] = {}
    if change.status != ChangeStatus.AWAITING_CAB:
        errors["change"] = _("Only a change awaiting the CAB can be decided.")
    if decision == Decision.REJECTED:
        if not argumentation.strip():
            errors["argumentation"] = _("Give the argumentation for the rejection.")
        if not alternatives.strip():
            errors["alternatives"] = _("Name the alternatives.")
    elif decision == Decision.APPROVED:
        needs_plans = change.classification == Classification.MAJOR or outside_business_hours(
            change.planned_start, change.planned_end
        )
        if needs_plans and not change.implementation_plan.strip():
            errors["implementation_plan"] = _("An implementation plan is needed before approval.")
        if needs_plans and not change.rollback_plan.strip():
            errors["rollback_plan"] = _("A rollback plan is needed before approval.")
        if not change.emergency and (freezes := freeze_windows_for(change)):
            names = {"freezes": ", ".join(freeze.reason for freeze in freezes)}
            errors["planned_start"] = _("In a freeze (%(freezes)s): emergencies only.") % names
    else:
        errors["decision"] = _("Approve or reject.")
    if errors:
        raise ValidationError(errors)
    change.decision, change.decided_at, change.decided_by = decision, now, actor
    change.argumentation, change.alternatives = argumentation.strip(), alternatives.strip()
    change.save(
        update_fields=["decision", "decided_at", "decided_by", "argumentation", "alternatives"]
    )
    _transition(change, decision, actor, now, argumentation)
    cab_review_emergency(change=change, now=now)  # an emergency is reviewed at the next meeting
    _close_manager_tasks(
        change, actor, now, "akkoord" if decision == Decision.APPROVED else argumentation
    )
    return change


def _close_manager_tasks(change: Change, actor: Any, now: datetime, remark: str) -> None:
    from django.contrib.contenttypes.models import ContentType

    from tickets.models import Task, TaskStatus

    for task in Task.objects.filter(
        link_type=ContentType.objects.get_for_model(Change),
        link_id=change.pk,
        status=TaskStatus.OPEN,
    ):
        task_close(task=task, actor=actor, now=now, remark=remark)


@transaction.atomic
def change_start(*, change: Change, actor: Any, now: datetime) -> Change:
    """Execution begins: an approved change, or a minor one straight away."""
    return _transition(_lock(change), ChangeStatus.IN_PROGRESS, actor, now)


@transaction.atomic
def change_record_outcome(
    *,
    change: Change,
    outcome: str,
    note: str,
    actor: Any,
    now: datetime,
    actual_cost: Decimal | None = None,
    actual_hours: Decimal | None = None,
) -> Change:
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": _("Implemented, failed or rolled back.")})
    if outcome != ChangeStatus.IMPLEMENTED and not note.strip():
        raise ValidationError({"note": _("Say what went wrong.")})
    change = _lock(change)
    change.outcome_note = note.strip()
    change.actual_cost, change.actual_hours = actual_cost, actual_hours
    change.save(update_fields=["outcome_note", "actual_cost", "actual_hours"])
    return _transition(change, outcome, actor, now, note)


@transaction.atomic
def change_link_caused_incident(
    *, change: Change, ticket: Ticket, actor: Any, now: datetime
) -> None:
    """Record that the change caused an incident (counted as a failure per change)."""
    from tickets.models import TicketType

    if ticket.type != TicketType.INCIDENT:
        raise ValidationError({"ticket": _("Only incidents are caused by changes.")})
    if change.caused_incidents.filter(pk=ticket.pk).exists():
        return
    change.caused_incidents.add(ticket)
    event_record(
        obj=change,
        kind="change.caused_incident",
        actor=actor,
        now=now,
        data={"ticket": ticket.number},
    )
    event_record(
        obj=ticket,
        kind="ticket.caused_by_change",
        actor=actor,
        now=now,
        data={"change": change.number},
    )


def change_from_ticket(
    *,
    ticket: Ticket,
    answers: dict[str, bool],
    justifications: dict[str, str],
    actor: Any,
    now: datetime,
    **fields: Any,
) -> Change:
    """A ticket of type change request becomes a change in one step; both keep
    the link (change.ticket, and an event on the ticket). A service request is
    a standard request, not a change."""
    from tickets.models import TicketType

    if ticket.type != TicketType.CHANGE_REQUEST:
        raise ValidationError({"ticket": _("Only a change request becomes a change.")})
    if Change.objects.filter(ticket=ticket).exists():
        raise ValidationError({"ticket": _("This ticket has its change already.")})
    change = change_submit(
        subject=fields.pop("subject", "") or ticket.subject,
        message=fields.pop("message", "")
        or ticket.messages.order_by("id").values_list("body", flat=True).first()
        or ticket.subject,
        impact=fields.pop("impact", ticket.impact),
        urgency=fields.pop("urgency", ticket.urgency),
        answers=answers,
        justifications=justifications,
        customer=ticket.customer,
        ticket=ticket,
        actor=actor,
        now=now,
        **fields,
    )
    event_record(
        obj=ticket,
        kind="ticket.change_raised",
        actor=actor,
        now=now,
        data={"change": change.number},
    )
    return change


@transaction.atomic
def change_replan(
    *, change: Change, start: datetime, end: datetime, actor: Any, now: datetime
) -> None:
    """Move a change's planned window (e.g. a machine update's appointment
    moved), so the forward schedule shows it; the event keeps the old window."""
    if (change.planned_start, change.planned_end) == (start, end):
        return
    old = [change.planned_start, change.planned_end]
    change.planned_start, change.planned_end, change.updated_at = start, end, now
    change.save(update_fields=["planned_start", "planned_end", "updated_at"])
    event_record(
        obj=change,
        kind="change.replanned",
        actor=actor,
        now=now,
        data={
            "planned_start": [str(old[0]) if old[0] else None, str(start)],
            "planned_end": [str(old[1]) if old[1] else None, str(end)],
        },
    )
