"""Reads of changes that depend on who asks, and the forward schedule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from changes import schedule
from changes.models import Change, ChangeStatus, FreezeWindow

# On the forward schedule: what is decided and running, and what still waits
# for a decision but already has a window (so clashes show before approval).
SCHEDULED = [ChangeStatus.APPROVED, ChangeStatus.IN_PROGRESS]
PLANNED = [ChangeStatus.SUBMITTED, ChangeStatus.AWAITING_CAB]
# The feed keeps the recent past so a calendar still shows last week's work.
FEED_HISTORY = timedelta(days=30)


def changes_visible_to(user: Any) -> QuerySet[Change]:
    """Staff and integration clients see every change; a customer user only
    their company's; anyone else none."""
    qs = Change.objects.select_related("customer", "ticket")
    if getattr(user, "customer_id", None):
        return qs.filter(customer_id=user.customer_id)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def change_get(*, user: Any, number: str) -> Change:
    change = changes_visible_to(user).filter(number=number).first()
    if change is None:
        raise Http404("No such change")
    return change


def as_freeze(window: FreezeWindow) -> schedule.Freeze:
    """A stored freeze window for the pure rules; its customers must be
    prefetched, or this costs a query per window."""
    customers = list(window.customers.all())
    return schedule.Freeze(
        id=window.pk,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        reason=window.reason,
        applies_to_all=window.applies_to_all,
        customer_ids=frozenset(c.pk for c in customers),
        customer_numbers=tuple(sorted(c.number for c in customers)),
        machines=tuple(sorted(window.machines or [])),
    )


def freeze_windows_between(start: datetime, end: datetime) -> list[FreezeWindow]:
    """Freeze windows overlapping [start, end), with their customers."""
    return list(
        FreezeWindow.objects.filter(starts_at__lt=end, ends_at__gt=start)
        .prefetch_related("customers")
        .order_by("starts_at", "id")
    )


def freeze_windows_for(change: Change) -> list[FreezeWindow]:
    """The freeze windows the change's planned window falls in. A change
    planned in one cannot be approved unless it is an emergency."""
    if change.planned_start is None or change.planned_end is None:
        return []
    candidates = freeze_windows_between(change.planned_start, change.planned_end)
    by_id = {window.pk: window for window in candidates}
    hits = schedule.freeze_conflicts(
        (change.planned_start, change.planned_end),
        change.affected_machines or [],
        change.customer_id,
        [as_freeze(window) for window in candidates],
    )
    return [by_id[freeze.id] for freeze in hits if freeze.id is not None]


def schedule_changes(
    *, start: datetime, end: datetime, statuses: Iterable[str] = (*SCHEDULED, *PLANNED)
) -> QuerySet[Change]:
    """Changes of these statuses whose planned window overlaps [start, end).
    Approved and running ones are found through change_schedule_idx."""
    return (
        Change.objects.filter(
            status__in=list(statuses), planned_start__lt=end, planned_end__gt=start
        )
        .select_related("customer")
        .order_by("planned_start", "id")
    )


def ical_feed(*, now: datetime) -> str:
    """The forward schedule for calendar clients: approved and running
    changes with a window, and the freeze windows, from FEED_HISTORY ago on.
    A running change stays in however long it overruns its window."""
    since = now - FEED_HISTORY
    changes = (
        Change.objects.filter(planned_start__isnull=False, planned_end__isnull=False)
        .filter(
            Q(status=ChangeStatus.APPROVED, planned_end__gte=since)
            | Q(status=ChangeStatus.IN_PROGRESS)
        )
        .order_by("planned_start", "id")
    )
    freezes = (
        FreezeWindow.objects.filter(ends_at__gte=since)
        .prefetch_related("customers")
        .order_by("starts_at", "id")
    )
    return schedule.to_ical(changes, [as_freeze(window) for window in freezes], now)
