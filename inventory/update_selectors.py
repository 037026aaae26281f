"""Reads of machine updates that depend on who asks: staff see every update, a
customer user only those of the company's own machines (and, in the portal,
not the internal research stages); anyone else nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404

from inventory.models import (
    ConfigurationItem,
    InstalledSoftware,
    ItemStatus,
    MachineUpdate,
    UpdateStatus,
)

CLOSED = (UpdateStatus.DONE, UpdateStatus.NOT_APPLICABLE)
# The customer sees an update from the appointment on; a candidate and the
# research are the engineers' business.
INTERNAL = (UpdateStatus.CANDIDATE, UpdateStatus.RESEARCHED, UpdateStatus.NOT_APPLICABLE)


def updates_visible_to(user: Any) -> QuerySet[MachineUpdate]:
    qs = MachineUpdate.objects.select_related("item__customer", "engineer", "change")
    if getattr(user, "customer_id", None):
        return qs.filter(item__customer_id=user.customer_id)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def update_get(*, user: Any, number: str) -> MachineUpdate:
    update = updates_visible_to(user).select_related("approved_by").filter(number=number).first()
    if update is None:
        raise Http404("No such update")
    return update


def updates_planning(user: Any) -> QuerySet[MachineUpdate]:
    """Open updates, the next appointment first; those without an appointment
    (candidates, researched, failed) after them, oldest first."""
    return (
        updates_visible_to(user)
        .exclude(status__in=CLOSED)
        .order_by(F("appointment_at").asc(nulls_last=True), "created_at", "pk")
    )


def updates_closed(user: Any) -> QuerySet[MachineUpdate]:
    return updates_visible_to(user).filter(status__in=CLOSED).order_by("-updated_at", "-pk")


def portal_updates(user: Any) -> QuerySet[MachineUpdate]:
    """The company's updates as the portal shows them."""
    if not getattr(user, "customer_id", None):
        return MachineUpdate.objects.none()
    return (
        updates_visible_to(user)
        .exclude(status__in=INTERNAL)
        .order_by(F("appointment_at").desc(nulls_last=True), "-pk")
    )


def portal_update_get(*, user: Any, number: str) -> MachineUpdate:
    update = portal_updates(user).select_related("approved_by").filter(number=number).first()
    if update is None:
        raise Http404("No such update")
    return update


def updates_of_item(item: ConfigurationItem) -> QuerySet[MachineUpdate]:
    return item.updates.select_related("engineer").order_by("-created_at")


@dataclass
class BehindMachine:
    item: ConfigurationItem
    software: Sequence[InstalledSoftware]


def machines_behind(*, software: str = "") -> list[BehindMachine]:
    """Machines with software older than the newest known release, per
    machine. Reads only rows flagged behind (the partial index
    software_behind_idx); each row carries the number and status of the
    update to that release when there is one (one subquery, no N+1)."""
    update = MachineUpdate.objects.filter(
        item_id=OuterRef("item_id"),
        software=OuterRef("name"),
        new_version=OuterRef("latest_version"),
    ).order_by("-pk")
    rows = (
        InstalledSoftware.objects.filter(behind=True)
        .exclude(item__status=ItemStatus.DECOMMISSIONED)
        .select_related("item__customer", "item__location")
        .annotate(
            update_number=Subquery(update.values("number")[:1]),
            update_status=Subquery(update.values("status")[:1]),
        )
        .order_by("item__hostname", "item__serial_number", "item_id", "name")
    )
    if software:
        rows = rows.filter(name__iexact=software)
    machines = []
    for _item_id, group in groupby(rows, key=lambda row: row.item_id):
        items = list(group)
        for row in items:
            # The update's status as a label, for the page (annotations carry codes).
            row.update_status_label = update_status_label(row.update_status)  # type: ignore[attr-defined]
        machines.append(BehindMachine(item=items[0].item, software=items))
    return machines


def update_status_label(status: str | None) -> str:
    return str(UpdateStatus(status).label) if status else ""
