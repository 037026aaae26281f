from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from changes.models import Change, ChangeStatus
from changes.services import (
    change_advise,
    change_answers_update,
    change_decide,
    change_record_outcome,
    change_start,
    change_submit,
    outside_business_hours,
)
from events.models import Event
from tests.base import Personas
from tickets.models import Task, TaskStatus

WED_10 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Amsterdam
NO = {"multiple_users": False, "dependencies": False, "unsupported": False, "investment": False}
MAJOR = {**NO, "dependencies": True}
PLANS = {"implementation_plan": "1. drain node A 2. upgrade 3. swap", "rollback_plan": "swap back"}


def submit(personas: Personas, answers=NO, justifications=None, **kwargs) -> Change:
    fields = {
        "subject": "Upgrade PHP on web01",
        "message": "PHP 8.1 is end of life",
        "impact": "medium",
        "urgency": "low",
        "answers": answers,
        "justifications": justifications
        if justifications is not None
        else {"dependencies": "Shop runs on it"},
        "actor": personas.jr,
        "now": WED_10,
        "customer": personas.customer,
        **kwargs,
    }
    return change_submit(**fields)


def test_a_minor_change_is_carried_out_without_approval(personas: Personas) -> None:
    change = submit(personas)
    assert (change.number, change.classification, change.status) == (
        f"C-{change.pk:06d}",
        "minor",
        "submitted",
    )
    assert change.priority == 3
    change_start(change=change, actor=personas.jr, now=WED_10)
    change = change_record_outcome(
        change=change, outcome="implemented", note="", actor=personas.jr, now=WED_10
    )
    assert change.status == ChangeStatus.IMPLEMENTED
    assert not Task.objects.exists()


def test_a_major_change_goes_to_the_change_manager_and_the_cab(personas: Personas) -> None:
    change = submit(personas, answers=MAJOR)
    assert (change.classification, change.status) == ("major", ChangeStatus.AWAITING_CAB)
    task = Task.objects.get(assignee=personas.cm)
    assert task.link == change and "Dependencies" in task.description
    with pytest.raises(ValidationError):
        change_start(change=change, actor=personas.jr, now=WED_10)


def test_every_yes_needs_a_justification(personas: Personas) -> None:
    with pytest.raises(ValidationError) as error:
        submit(
            personas, answers={**MAJOR, "investment": True}, justifications={"dependencies": "x"}
        )
    assert "investment" in str(error.value)
    assert not Change.objects.exists()


def test_answers_changed_before_the_decision_reclassify(personas: Personas) -> None:
    change = submit(personas)
    change = change_answers_update(
        change=change,
        answers=MAJOR,
        justifications={"dependencies": "DB"},
        actor=personas.jr,
        now=WED_10,
    )
    assert (change.classification, change.status) == ("major", ChangeStatus.AWAITING_CAB)
    assert Event.objects.filter(kind="change.reclassified").exists()


def test_only_the_change_manager_decides_and_approval_needs_plans(personas: Personas) -> None:
    change = submit(personas, answers=MAJOR)
    with pytest.raises(PermissionDenied):
        change_decide(change=change, decision="approved", actor=personas.sr, now=WED_10)
    with pytest.raises(ValidationError) as error:
        change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    assert {"implementation_plan", "rollback_plan"} <= error.value.message_dict.keys()
    Change.objects.filter(pk=change.pk).update(**PLANS)
    change = change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    assert (change.status, change.decision, change.decided_by) == (
        "approved",
        "approved",
        personas.cm,
    )
    task = Task.objects.get(assignee=personas.cm)
    assert (task.status, task.closing_remark) == (TaskStatus.CLOSED, "akkoord")
    with pytest.raises(ValidationError):
        change_decide(
            change=change,
            decision="rejected",
            argumentation="a",
            alternatives="b",
            actor=personas.cm,
            now=WED_10,
        )


def test_a_rejection_needs_argumentation_and_alternatives(personas: Personas) -> None:
    change = submit(personas, answers=MAJOR)
    with pytest.raises(ValidationError) as error:
        change_decide(change=change, decision="rejected", actor=personas.cm, now=WED_10)
    assert {"argumentation", "alternatives"} <= error.value.message_dict.keys()
    change = change_decide(
        change=change,
        decision="rejected",
        argumentation="Too risky before Black Friday",
        alternatives="Do it in January",
        actor=personas.cm,
        now=WED_10,
    )
    assert change.status == ChangeStatus.REJECTED


def test_a_window_outside_business_hours_needs_plans_too(personas: Personas) -> None:
    saturday = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert outside_business_hours(saturday, saturday + timedelta(hours=2))
    assert not outside_business_hours(WED_10, WED_10 + timedelta(hours=2))
    assert outside_business_hours(WED_10, WED_10 + timedelta(hours=9))  # runs past 17:30


def test_cab_members_advise_once_each_while_awaiting(personas: Personas) -> None:
    change = submit(personas, answers=MAJOR)
    with pytest.raises(PermissionDenied):
        change_advise(
            change=change,
            technically_feasible=True,
            within_budget=True,
            remarks="",
            actor=personas.jr,
            now=WED_10,
        )
    change_advise(
        change=change,
        technically_feasible=True,
        within_budget=False,
        remarks="Needs licence",
        actor=personas.sr,
        now=WED_10,
    )
    change_advise(
        change=change,
        technically_feasible=True,
        within_budget=True,
        remarks="Licence found",
        actor=personas.sr,
        now=WED_10,
    )
    advice = change.advice.get()
    assert (advice.within_budget, advice.remarks) == (True, "Licence found")


def test_a_failed_change_says_what_went_wrong(personas: Personas) -> None:
    change = submit(personas)
    change_start(change=change, actor=personas.jr, now=WED_10)
    with pytest.raises(ValidationError):
        change_record_outcome(
            change=change, outcome="failed", note="", actor=personas.jr, now=WED_10
        )
    change = change_record_outcome(
        change=change,
        outcome="rolled_back",
        note="Extension missing",
        actor=personas.jr,
        now=WED_10,
    )
    assert change.status == ChangeStatus.ROLLED_BACK


def test_a_customer_requests_changes_only_for_their_company(personas: Personas) -> None:
    with pytest.raises(ValidationError, match="own company"):
        submit(personas, actor=personas.other_customer_user)
    change = submit(personas, actor=personas.customer_user)
    assert change.requester == personas.customer_user


def test_a_change_in_a_freeze_is_approved_only_as_an_emergency(personas: Personas) -> None:
    from changes.models import FreezeWindow

    start = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
    FreezeWindow.objects.create(
        starts_at=datetime(2026, 12, 18, tzinfo=UTC),
        ends_at=datetime(2027, 1, 4, tzinfo=UTC),
        reason="Year end",
        applies_to_all=True,
    )
    window = {"planned_start": start, "planned_end": start + timedelta(hours=1), **PLANS}
    normal = submit(personas, answers=MAJOR, **window)
    with pytest.raises(ValidationError, match="Year end"):
        change_decide(change=normal, decision="approved", actor=personas.cm, now=WED_10)
    urgent = submit(personas, answers=MAJOR, emergency=True, **window)
    assert (
        change_decide(change=urgent, decision="approved", actor=personas.cm, now=WED_10).status
        == "approved"
    )


def test_the_requester_and_the_customer_hear_the_decision(personas: Personas) -> None:
    from django.core import mail

    from events.tasks import send_notifications

    personas.customer.email = "it@hoogendijk.example"
    personas.customer.save()
    start = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    change = submit(
        personas,
        answers=MAJOR,
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        **PLANS,
    )
    send_notifications()
    mail.outbox.clear()
    change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    send_notifications()
    decided = {m.to[0]: m for m in mail.outbox if "approved" in str(m.subject)}
    assert set(decided) == {personas.jr.email, "it@hoogendijk.example"}
    assert "2026-12-01 23:00" in str(decided["it@hoogendijk.example"].body)  # Amsterdam time


def test_replanning_moves_the_window_and_keeps_the_old_one_in_history(
    personas: Personas,
) -> None:
    from changes.services import change_replan

    change = submit(personas)
    start = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)
    change_replan(
        change=change, start=start, end=start + timedelta(hours=1), actor=personas.sr, now=start
    )
    change.refresh_from_db()
    assert (change.planned_start, change.planned_end) == (start, start + timedelta(hours=1))
    event = Event.objects.get(kind="change.replanned", object_id=change.pk)
    assert event.data["planned_start"][1] == str(start)
    # The same window again is no change and no event.
    change_replan(
        change=change, start=start, end=start + timedelta(hours=1), actor=personas.sr, now=start
    )
    assert Event.objects.filter(kind="change.replanned").count() == 1
