from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changes.cab import (
    cab_meeting_prepare,
    cab_minutes_record,
    cab_review_emergency,
    change_put_on_agenda,
    next_meeting_start,
)
from changes.models import CabMeeting, Change, ChangeStatus
from changes.services import change_advise, change_decide, change_submit
from changes.tasks import prepare_cab_meeting
from events.models import Event
from events.tasks import send_notifications
from servicedesk.celery import BEAT_SCHEDULE
from tests.base import Personas, make_personas

WED_10 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Amsterdam
TUE_14 = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # the next CAB: Tuesday 14:00 CET
NO = {"multiple_users": False, "dependencies": False, "unsupported": False, "investment": False}
MAJOR = {**NO, "dependencies": True, "investment": True}
WHY = {"dependencies": "The shop's checkout calls it", "investment": "Two new licences"}
PLANS = {
    "implementation_plan": "1. drain node A 2. upgrade 3. swap",
    "rollback_plan": "Swap back to node A",
}


def submit(
    personas: Personas, answers: dict[str, bool] = MAJOR, now: datetime = WED_10, **kwargs: Any
) -> Change:
    """A change as the desk submits it; majors are put on the agenda, as the
    submission does (calling it again here is harmless)."""
    fields: dict[str, Any] = {
        "subject": "Upgrade PHP on web01",
        "message": "PHP 8.1 is end of life",
        "impact": "medium",
        "urgency": "low",
        "answers": answers,
        "justifications": WHY if answers != NO else {},
        "actor": personas.jr,
        "now": now,
        "customer": personas.customer,
        "affected_machines": ["web01.example.test"],
        **PLANS,
        **kwargs,
    }
    change = change_submit(**fields)
    change_put_on_agenda(change=change, now=now)
    change.refresh_from_db()
    return change


def agenda_mails() -> list[Any]:
    return [m for m in mail.outbox if "CAB agenda" in m.subject]


def agenda_recipients() -> list[str]:
    return sorted(m.to[0] for m in agenda_mails())


# --- next_meeting_start -----------------------------------------------------------


def test_it_finds_the_next_tuesday_at_two_in_amsterdam() -> None:
    assert next_meeting_start(WED_10) == TUE_14
    assert next_meeting_start(TUE_14 - timedelta(minutes=1)) == TUE_14
    # Strictly after: at the very start (or during) the meeting, the next is a week on.
    assert next_meeting_start(TUE_14) == TUE_14 + timedelta(days=7)
    assert next_meeting_start(TUE_14 + timedelta(hours=1)) == TUE_14 + timedelta(days=7)
    assert next_meeting_start(WED_10).tzinfo == UTC


def test_it_keeps_the_wall_clock_across_a_dst_change() -> None:
    # Summer time ends on Sunday 25 October 2026: 14:00 is 12:00 UTC before, 13:00 after.
    assert next_meeting_start(datetime(2026, 10, 21, 10, 0, tzinfo=UTC)) == datetime(
        2026, 10, 27, 13, 0, tzinfo=UTC
    )
    assert next_meeting_start(datetime(2026, 10, 27, 12, 30, tzinfo=UTC)) == datetime(
        2026, 10, 27, 13, 0, tzinfo=UTC
    )
    # Summer time begins on Sunday 29 March 2026.
    assert next_meeting_start(datetime(2026, 3, 25, 10, 0, tzinfo=UTC)) == datetime(
        2026, 3, 31, 12, 0, tzinfo=UTC
    )


def test_it_reads_the_local_day_not_the_utc_day() -> None:
    # Tuesday 00:30 in Amsterdam is still Monday in UTC.
    assert next_meeting_start(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == TUE_14


@override_settings(CAB_WEEKDAY=3, CAB_HOUR=9, CAB_MINUTE=30)
def test_it_follows_the_configured_weekday_and_time() -> None:
    assert next_meeting_start(WED_10) == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert next_meeting_start(datetime(2026, 11, 26, 8, 30, tzinfo=UTC)) == datetime(
        2026, 12, 3, 8, 30, tzinfo=UTC
    )


# --- Preparing meetings and the agenda mail ---------------------------------------


def test_prepare_creates_the_next_meeting_once(personas: Personas) -> None:
    first = cab_meeting_prepare(now=WED_10)
    again = cab_meeting_prepare(now=WED_10 + timedelta(hours=1))
    assert first.pk == again.pk and first.starts_at == TUE_14
    assert CabMeeting.objects.count() == 1
    assert first.agenda_sent_at is None


def test_the_agenda_goes_out_the_day_before_and_only_once(personas: Personas) -> None:
    change = submit(personas)
    cab_meeting_prepare(now=TUE_14 - timedelta(hours=25))
    send_notifications()
    assert agenda_recipients() == []

    meeting = cab_meeting_prepare(now=TUE_14 - timedelta(hours=23, minutes=55))
    assert meeting.agenda_sent_at == TUE_14 - timedelta(hours=23, minutes=55)
    send_notifications()
    # sr is a CAB member; cm is a CAB member and the change manager: one mail each.
    assert agenda_recipients() == [personas.cm.email, personas.sr.email]
    agenda = agenda_mails()[0]
    assert str(change.number) in agenda.body and "Upgrade PHP on web01 (major)" in agenda.body
    assert "2026-12-01 14:00" in agenda.subject
    html = str(agenda.alternatives[0][0])
    assert str(change.number) in html and "/changes/cab/" in html

    mail.outbox.clear()
    cab_meeting_prepare(now=TUE_14 - timedelta(hours=22, minutes=55))
    cab_meeting_prepare(now=TUE_14 - timedelta(hours=1))
    send_notifications()
    assert agenda_recipients() == []
    assert Event.objects.filter(kind="cab.agenda").count() == 1


def test_the_task_prepares_the_meeting(personas: Personas) -> None:
    result = prepare_cab_meeting()
    meeting = CabMeeting.objects.get()
    assert result["meeting"] == meeting.pk
    assert "prepare-cab-meeting" in BEAT_SCHEDULE
    entry = BEAT_SCHEDULE["prepare-cab-meeting"]
    assert entry["task"] == "changes.prepare_cab_meeting"
    assert entry["options"]["expires"]  # type: ignore[index]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_preparing_at_once_make_one_meeting_and_one_agenda() -> None:
    personas = make_personas()
    changes = [submit(personas) for _ in range(3)]
    Change.objects.update(cab_meeting=None)  # left for the sweeper to put on the agenda
    CabMeeting.objects.all().delete()
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    now = TUE_14 - timedelta(hours=20)

    def prepare() -> None:
        try:
            barrier.wait()
            cab_meeting_prepare(now=now)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=prepare) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    meeting = CabMeeting.objects.get()
    assert {c.cab_meeting_id for c in Change.objects.all()} == {meeting.pk}
    swept = Event.objects.filter(kind="change.cab_agenda", created_at=now)
    assert swept.count() == len(changes)
    assert Event.objects.filter(kind="cab.agenda").count() == 1
    send_notifications()
    assert agenda_recipients() == [personas.cm.email, personas.sr.email]


# --- What goes on the agenda ------------------------------------------------------


def test_a_major_change_lands_on_the_next_agenda_once(personas: Personas) -> None:
    change = submit(personas)
    assert change.cab_meeting is not None and change.cab_meeting.starts_at == TUE_14
    assert change_put_on_agenda(change=change, now=WED_10 + timedelta(days=1)) == (
        change.cab_meeting
    )
    assert Event.objects.filter(kind="change.cab_agenda", object_id=change.pk).count() == 1


def test_a_minor_change_never_goes_on_the_agenda(personas: Personas) -> None:
    change = submit(personas, answers=NO)
    assert change.classification == "minor" and change.cab_meeting is None
    cab_meeting_prepare(now=WED_10)
    change.refresh_from_db()
    assert change.cab_meeting is None


def test_the_sweeper_puts_a_forgotten_major_change_on_the_agenda(personas: Personas) -> None:
    change = submit(personas)
    Change.objects.filter(pk=change.pk).update(cab_meeting=None)
    meeting = cab_meeting_prepare(now=WED_10)
    change.refresh_from_db()
    assert change.cab_meeting == meeting


def test_an_emergency_is_decided_at_once_and_reviewed_at_the_next_meeting(
    personas: Personas,
) -> None:
    change = submit(personas, emergency=True, subject="Patch the OpenSSL hole")
    assert change.status == ChangeStatus.AWAITING_CAB and change.cab_meeting is None
    cab_meeting_prepare(now=WED_10)  # no waiting for a meeting before the decision
    change.refresh_from_db()
    assert change.cab_meeting is None

    change = change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    meeting = cab_review_emergency(change=change, now=WED_10)
    assert change.status == ChangeStatus.APPROVED
    assert meeting is not None and meeting.starts_at == TUE_14
    assert cab_review_emergency(change=change, now=WED_10) == meeting
    assert Event.objects.filter(kind="change.cab_review", object_id=change.pk).count() == 1

    client = Client()
    client.force_login(personas.sr)
    with time_machine.travel(WED_10, tick=False):
        page = client.get(reverse("cab")).content.decode()
    review = page.split("To review")[1]
    assert str(change.number) in review and "Patch the OpenSSL hole" in review


def test_the_sweeper_puts_a_decided_emergency_up_for_review(personas: Personas) -> None:
    change = submit(personas, emergency=True)
    change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    meeting = cab_meeting_prepare(now=WED_10)
    change.refresh_from_db()
    assert change.cab_meeting == meeting


# --- The CAB page -----------------------------------------------------------------


def cab_page(user: Any, client: Client | None = None) -> Any:
    client = client or Client()
    with time_machine.travel(WED_10, tick=False):
        client.force_login(user)
        return client.get(reverse("cab"))


def test_the_cab_page_shows_the_agenda_with_answers_and_plans(personas: Personas) -> None:
    change = submit(personas, planned_start=TUE_14 + timedelta(days=2))
    change_advise(
        change=change,
        technically_feasible=True,
        within_budget=False,
        remarks="Licences are not budgeted",
        actor=personas.sr,
        now=WED_10,
    )
    response = cab_page(personas.cm)
    assert response.status_code == 200
    page = response.content.decode()
    for text in [
        change.number,
        "Upgrade PHP on web01",
        "Hoogendijk Logistiek",
        "Dependencies on other applications or environments?",
        "Are investments involved?",
        "The shop&#x27;s checkout calls it",
        "Two new licences",
        "1. drain node A 2. upgrade 3. swap",
        "Swap back to node A",
        "web01.example.test",
        "Licences are not budgeted",
        "Sr",  # the advising member
        f'action="/changes/cab/changes/{change.number}/advise/"',
        f'action="/changes/cab/changes/{change.number}/decide/"',
    ]:
        assert text in page, text


def test_the_cab_page_costs_the_same_for_one_or_eight_changes(personas: Personas) -> None:
    def advised() -> None:
        change = submit(personas)
        change_advise(
            change=change,
            technically_feasible=True,
            within_budget=True,
            remarks="",
            actor=personas.sr,
            now=WED_10,
        )

    advised()
    client = Client()
    cab_page(personas.cm, client)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        assert cab_page(personas.cm, client).status_code == 200
    for _ in range(7):
        advised()
    with CaptureQueriesContext(connection) as eight:
        page = cab_page(personas.cm, client)
    assert page.content.decode().count('class="card cab-change"') == 8
    assert len(eight) == len(one)


def test_a_member_advises_through_the_page(personas: Personas) -> None:
    change = submit(personas)
    client = Client()
    client.force_login(personas.sr)
    response = client.post(
        reverse("cab-advise", args=[change.number]),
        {"technically_feasible": "yes", "within_budget": "no", "remarks": "Needs a licence"},
    )
    assert response.status_code == 302
    advice = change.advice.get()
    assert (advice.member, advice.technically_feasible, advice.within_budget) == (
        personas.sr,
        True,
        False,
    )
    page = cab_page(personas.sr, client).content.decode()
    # The member's own advice stands in the form, ready to be revised.
    assert f'id="advice-{change.number}-within_budget_1" checked' in page


def test_advice_without_an_answer_is_a_form_error(personas: Personas) -> None:
    change = submit(personas)
    client = Client()
    client.force_login(personas.sr)
    with time_machine.travel(WED_10, tick=False):
        response = client.post(reverse("cab-advise", args=[change.number]), {"remarks": "?"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not change.advice.exists()


def test_the_change_manager_approves_with_one_click(personas: Personas) -> None:
    change = submit(personas)
    client = Client()
    client.force_login(personas.cm)
    response = client.post(reverse("cab-decide", args=[change.number]), {"decision": "approved"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ChangeStatus.APPROVED, personas.cm)


def test_a_rejection_without_argumentation_is_shown_at_the_change(personas: Personas) -> None:
    change = submit(personas)
    client = Client()
    client.force_login(personas.cm)
    with time_machine.travel(WED_10, tick=False):
        response = client.post(
            reverse("cab-decide", args=[change.number]),
            {"decision": "rejected", "argumentation": "", "alternatives": "Wait for 8.3"},
        )
    assert response.status_code == 400
    page = response.content.decode()
    card = page.split(f'id="change-{change.number}"')[1]
    assert "Give the argumentation for the rejection." in card
    assert "Wait for 8.3" in card  # what was typed is kept
    assert "<details open>" in card
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING_CAB and change.decision == ""


def test_approval_without_plans_is_refused_at_the_change(personas: Personas) -> None:
    change = submit(personas, implementation_plan="", rollback_plan="")
    client = Client()
    client.force_login(personas.cm)
    with time_machine.travel(WED_10, tick=False):
        response = client.post(
            reverse("cab-decide", args=[change.number]), {"decision": "approved"}
        )
    assert response.status_code == 400
    assert "An implementation plan is needed before approval." in response.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING_CAB


def test_deciding_a_decided_change_again_explains_instead_of_failing(personas: Personas) -> None:
    change = submit(personas)
    change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    client = Client()
    client.force_login(personas.cm)
    with time_machine.travel(WED_10, tick=False):
        response = client.post(
            reverse("cab-decide", args=[change.number]), {"decision": "approved"}
        )
    assert response.status_code == 400
    assert "Only a change awaiting the CAB can be decided." in response.content.decode()


def test_an_engineer_sees_no_decision_form_and_may_not_post_one(personas: Personas) -> None:
    change = submit(personas)
    client = Client()
    page = cab_page(personas.jr, client)
    assert page.status_code == 200 and change.number in page.content.decode()
    assert "/decide/" not in page.content.decode() and "/advise/" not in page.content.decode()
    # At the moment of the login: its session lasts SESSION_COOKIE_AGE (8 h).
    with time_machine.travel(WED_10, tick=False):
        decide = client.post(reverse("cab-decide", args=[change.number]), {"decision": "approved"})
        advise = client.post(
            reverse("cab-advise", args=[change.number]),
            {"technically_feasible": "yes", "within_budget": "yes"},
        )
    assert (decide.status_code, advise.status_code) == (403, 403)
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING_CAB and not change.advice.exists()


def test_a_cab_member_advises_but_does_not_decide(personas: Personas) -> None:
    submit(personas)
    page = cab_page(personas.sr).content.decode()
    assert "/advise/" in page and "/decide/" not in page


def test_an_undecided_change_is_carried_over_to_the_next_meeting(personas: Personas) -> None:
    change = submit(personas, now=WED_10 - timedelta(days=7))  # on last week's agenda
    assert change.cab_meeting is not None
    assert change.cab_meeting.starts_at == TUE_14 - timedelta(days=7)
    page = cab_page(personas.cm).content.decode()
    card = page.split(f'id="change-{change.number}"')[1]
    assert "carried over from the CAB of" in card and "/decide/" in card


def test_an_unknown_change_is_not_found(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.cm)
    response = client.post(reverse("cab-decide", args=["C-999999"]), {"decision": "approved"})
    assert response.status_code == 404


def test_customers_do_not_find_the_cab(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.customer_user)
    assert client.get(reverse("cab")).status_code == 404


# --- Meetings and minutes ---------------------------------------------------------


def test_the_change_manager_records_the_minutes(personas: Personas) -> None:
    change = submit(personas)
    change_decide(change=change, decision="approved", actor=personas.cm, now=WED_10)
    meeting = CabMeeting.objects.get()
    client = Client()
    url = reverse("cab-minutes", args=[meeting.pk])
    # Log in inside each journey in time: a session lasts eight hours.
    with time_machine.travel(TUE_14 - timedelta(hours=1), tick=False):
        client.force_login(personas.cm)
        early = client.post(url, {"minutes": "Approved the PHP upgrade."})
    assert early.status_code == 400
    assert "once the meeting has begun" in early.content.decode()

    with time_machine.travel(TUE_14 + timedelta(hours=1), tick=False):
        client.force_login(personas.cm)
        empty = client.post(url, {"minutes": "  "})
        done = client.post(url, {"minutes": "Approved the PHP upgrade."})
        page = client.get(reverse("cab-meeting", args=[meeting.pk])).content.decode()
        history = client.get(reverse("cab-history")).content.decode()
    assert (empty.status_code, done.status_code) == (400, 302)
    meeting.refresh_from_db()
    assert meeting.minutes == "Approved the PHP upgrade."
    assert meeting.held_at == TUE_14 + timedelta(hours=1)
    assert Event.objects.filter(kind="cab.minutes", object_id=meeting.pk).count() == 1
    assert "Approved the PHP upgrade." in page and str(change.number) in page
    assert "approved" in page
    assert reverse("cab-meeting", args=[meeting.pk]) in history


def test_only_the_change_manager_records_minutes(personas: Personas) -> None:
    meeting = cab_meeting_prepare(now=WED_10)
    with pytest.raises(PermissionDenied):
        cab_minutes_record(meeting=meeting, minutes="x", actor=personas.sr, now=TUE_14)
    client = Client()
    client.force_login(personas.sr)
    response = client.post(reverse("cab-minutes", args=[meeting.pk]), {"minutes": "x"})
    assert response.status_code == 403
    with pytest.raises(ValidationError):
        cab_minutes_record(meeting=meeting, minutes="", actor=personas.cm, now=TUE_14)


def test_past_meetings_are_listed_newest_first(personas: Personas) -> None:
    older = cab_meeting_prepare(now=WED_10 - timedelta(days=7))
    newer = cab_meeting_prepare(now=WED_10)
    future = cab_meeting_prepare(now=TUE_14)
    client = Client()
    with time_machine.travel(TUE_14 + timedelta(days=1), tick=False):
        client.force_login(personas.jr)
        page = client.get(reverse("cab-history")).content.decode()
    links = [reverse("cab-meeting", args=[m.pk]) for m in (newer, older, future)]
    assert links[0] in page and links[1] in page and links[2] not in page
    assert page.index(links[0]) < page.index(links[1])
