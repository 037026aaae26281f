"""The Change Advisory Board: its weekly meetings, their agendas and minutes.

Major changes are put on the agenda of the next meeting; an emergency major is
decided at once and reviewed at the next meeting afterwards. The agenda goes to
the CAB members and the change manager the day before, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from changes.models import Advice, CabMeeting, Change, ChangeStatus, Classification
from events.services import event_record

# The CAB meets on Amsterdam wall-clock time, whatever the server's zone.
CAB_ZONE = ZoneInfo("Europe/Amsterdam")
# "The day before": the agenda goes out once the meeting is this close.
AGENDA_NOTICE = timedelta(hours=24)

_MAJOR = Q(classification=Classification.MAJOR)
# Waiting for a place on an agenda: a regular major change before its
# decision, or an emergency major after its (immediate) decision, for review.
_DUE_FOR_AGENDA = _MAJOR & (
    Q(emergency=False, status=ChangeStatus.AWAITING_CAB) | Q(emergency=True) & ~Q(decision="")
)


def next_meeting_start(now: datetime) -> datetime:
    """The first CAB slot strictly after `now` (CAB_WEEKDAY at CAB_HOUR:CAB_MINUTE
    in Amsterdam), in UTC. Pure: the same `now` always gives the same slot."""
    local = now.astimezone(CAB_ZONE)
    days_ahead = (settings.CAB_WEEKDAY - local.weekday()) % 7
    slot = time(settings.CAB_HOUR, settings.CAB_MINUTE)
    for week in (0, 1):
        day = local.date() + timedelta(days=days_ahead + 7 * week)
        # Combined per day, so the offset is that day's (CET or CEST), not today's.
        # Compared in UTC: aware datetimes sharing a tzinfo compare as wall time.
        start = datetime.combine(day, slot, tzinfo=CAB_ZONE).astimezone(UTC)
        if start > now.astimezone(UTC):
            return start
    raise AssertionError("unreachable: a week later is always after now")


def _meeting_at(starts_at: datetime) -> CabMeeting:
    """The meeting at this moment, created once: two workers racing here both
    end up with the same row, because `starts_at` is unique and get_or_create
    falls back to reading the winner's row after its own insert fails."""
    meeting, _created = CabMeeting.objects.get_or_create(starts_at=starts_at)
    return meeting


def _assign(change_id: int, meeting: CabMeeting, now: datetime, emergency: bool) -> bool:
    """Put one change on `meeting`'s agenda unless it already is on one; the
    conditional UPDATE makes a second caller (or worker) a no-op."""
    if not Change.objects.filter(pk=change_id, cab_meeting__isnull=True).update(
        cab_meeting=meeting
    ):
        return False
    change = Change.objects.get(pk=change_id)
    event_record(
        obj=change,
        kind="change.cab_review" if emergency else "change.cab_agenda",
        actor=None,
        now=now,
        data={"meeting": meeting.pk, "starts_at": meeting.starts_at.isoformat()},
    )
    return True


@transaction.atomic
def change_put_on_agenda(*, change: Change, now: datetime) -> CabMeeting | None:
    """A regular major change goes on the agenda of the next meeting. Safe to
    call twice. Emergencies are not put on an agenda before their decision
    (they skip the weekly wait); `cab_review_emergency` takes them after it."""
    if change.classification != Classification.MAJOR or change.emergency or change.decision:
        return None
    if change.cab_meeting_id is None:
        meeting = _meeting_at(next_meeting_start(now))
        _assign(change.pk, meeting, now, emergency=False)
    change.refresh_from_db(fields=["cab_meeting"])
    return change.cab_meeting


@transaction.atomic
def cab_review_emergency(*, change: Change, now: datetime) -> CabMeeting | None:
    """A decided emergency change goes on the next meeting's agenda, so the CAB
    reviews what was decided without it. Safe to call twice."""
    if not change.emergency or not change.decision:
        return None
    if change.cab_meeting_id is None:
        meeting = _meeting_at(next_meeting_start(now))
        _assign(change.pk, meeting, now, emergency=True)
    change.refresh_from_db(fields=["cab_meeting"])
    return change.cab_meeting


def cab_meeting_prepare(*, now: datetime, batch: int = 500) -> CabMeeting:
    """The hourly sweeper: make sure the next meeting exists, put every major
    change still without a meeting on its agenda, and, the day before, send
    the agenda exactly once. Idempotent and safe in several workers at once."""
    meeting = _meeting_at(next_meeting_start(now))
    due = (
        Change.objects.filter(_DUE_FOR_AGENDA, cab_meeting__isnull=True)
        .order_by("created_at")
        .values_list("id", "emergency")[:batch]
    )
    for change_id, emergency in due:
        with transaction.atomic():
            _assign(change_id, meeting, now, emergency=emergency)
    if meeting.agenda_sent_at is None and meeting.starts_at - now <= AGENDA_NOTICE:
        _agenda_send(meeting, now)
    return meeting


def _agenda_send(meeting: CabMeeting, now: datetime) -> bool:
    """Claim the agenda with a conditional UPDATE: only the worker whose UPDATE
    changed the row records the event, and so only one agenda mail goes out.
    The event keeps the agenda as sent; later additions show on the CAB page."""
    with transaction.atomic():
        if not CabMeeting.objects.filter(pk=meeting.pk, agenda_sent_at__isnull=True).update(
            agenda_sent_at=now
        ):
            return False
        meeting.agenda_sent_at = now
        items = [
            {
                "number": change.number or "",
                "subject": change.subject,
                "classification": change.classification,
                "emergency": change.emergency,
                "decision": change.decision,
            }
            for change in agenda_of(meeting).order_by("created_at")
        ]
        event_record(
            obj=meeting,
            kind="cab.agenda",
            actor=None,
            now=now,
            data={"starts_at": meeting.starts_at.isoformat(), "changes": items},
        )
    return True


@transaction.atomic
def cab_minutes_record(
    *, meeting: CabMeeting, minutes: str, actor: Any, now: datetime
) -> CabMeeting:
    """The change manager records the minutes once the meeting has begun, which
    marks it held. Minutes may be corrected later; it stays held from the
    first time."""
    if not actor.has_perm("changes.decide_change"):
        raise PermissionDenied(_("Only the change manager records the minutes."))
    meeting = CabMeeting.objects.select_for_update().get(pk=meeting.pk)
    errors: dict[str, str] = {}
    if not minutes.strip():
        errors["minutes"] = _("Write down what the CAB discussed and decided.")
    if meeting.starts_at > now:
        errors["minutes"] = _("Minutes can be recorded once the meeting has begun.")
    if errors:
        raise ValidationError(errors)
    revised = bool(meeting.minutes)
    meeting.minutes = minutes.strip()
    meeting.held_at = meeting.held_at or now
    meeting.save(update_fields=["minutes", "held_at"])
    event_record(
        obj=meeting,
        kind="cab.minutes",
        actor=actor,
        now=now,
        to_state="held",
        data={"revised": revised},
    )
    return meeting


# --- Reads --------------------------------------------------------------------


def _with_details(changes: QuerySet[Change]) -> QuerySet[Change]:
    """Everything a change card shows, in a fixed number of queries however
    long the agenda is."""
    return changes.select_related("customer", "decided_by", "cab_meeting").prefetch_related(
        Prefetch(
            "advice",
            queryset=Advice.objects.select_related("member").order_by("given_at"),
        )
    )


def agenda_of(meeting: CabMeeting) -> QuerySet[Change]:
    """What the CAB discusses at `meeting`: its own changes, and every change
    still awaiting the CAB from another meeting (carried over, so a change
    whose meeting passed undecided does not drop out of sight)."""
    carried_over = Q(status=ChangeStatus.AWAITING_CAB, cab_meeting__isnull=False)
    if meeting.pk is None:
        return _with_details(Change.objects.filter(carried_over))
    return _with_details(Change.objects.filter(Q(cab_meeting=meeting.pk) | carried_over))


def emergencies_to_decide() -> QuerySet[Change]:
    """Emergency majors awaiting their decision: they do not wait for a meeting."""
    return _with_details(
        Change.objects.filter(
            _MAJOR, emergency=True, status=ChangeStatus.AWAITING_CAB, cab_meeting__isnull=True
        )
    )


def meeting_changes(meeting: CabMeeting) -> QuerySet[Change]:
    return _with_details(meeting.changes.all()).order_by("created_at")
