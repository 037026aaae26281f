"""Writes of the reports: the monthly snapshot and the KPI targets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from events.services import event_record
from reports import kpis
from reports.models import KpiTarget, MonthlySnapshot
from reports.periods import month_period
from reports.selectors import report_values

CHANGE_TARGETS = "reports.change_kpitarget"


def snapshot_month(*, month: date, now: datetime) -> tuple[MonthlySnapshot, bool]:
    """Store the KPIs and tables of a closed month, once. Returns the snapshot
    and whether this call made it. A month that has one keeps it: later edits
    of tickets or changes do not rewrite what was reported. The unique
    constraint decides a race: the loser's insert fails and it returns the
    winner's snapshot."""
    if month.day != 1:
        raise ValidationError({"month": _("A snapshot is of a month: give its first day.")})
    period = month_period(month)
    if not period.is_closed(now):
        raise ValidationError({"month": _("Only a month that has ended can be kept.")})
    existing = MonthlySnapshot.objects.filter(month=month).first()
    if existing is not None:
        return existing, False
    # Computed outside the transaction: reads only, and the insert below is
    # the one write that must be atomic with its event.
    values = report_values(period=period, now=now)
    try:
        with transaction.atomic():
            snapshot = MonthlySnapshot.objects.create(month=month, created_at=now, values=values)
            event_record(
                obj=snapshot,
                kind="report.snapshot_taken",
                actor=None,
                now=now,
                data={"month": month.isoformat()},
            )
    except IntegrityError:
        return MonthlySnapshot.objects.get(month=month), False
    return snapshot, True


@transaction.atomic
def target_set(
    *,
    kpi: str,
    target: Decimal | None,
    higher_is_better: bool | None,
    actor: Any,
    now: datetime,
) -> KpiTarget | None:
    """Set, change or (with `target=None`) remove the target of a KPI. The
    direction defaults to the catalogue's. Every change is an event."""
    if not actor.has_perm(CHANGE_TARGETS):
        raise PermissionDenied(_("You cannot change KPI targets."))
    spec = kpis.BY_CODE.get(kpi)
    if spec is None:
        raise ValidationError({"kpi": _("There is no KPI %(code)s.") % {"code": kpi}})
    current = KpiTarget.objects.select_for_update().filter(kpi=kpi).first()
    before = _describe(current)
    if target is None:
        if current is None:
            return None
        _record(current, before, "", actor, now)  # before the row and its pk are gone
        current.delete()
        return None
    if higher_is_better is None:
        higher_is_better = spec.higher_is_better
    if higher_is_better is None:
        raise ValidationError(
            {"higher_is_better": _("Say whether a value above the target is good.")}
        )
    if spec.unit == kpis.PERCENT and not 0 <= target <= 100:
        raise ValidationError({"target": _("A percentage lies between 0 and 100.")})
    if target < 0:
        raise ValidationError({"target": _("A target is not negative.")})
    if current is None:
        current = KpiTarget(kpi=kpi)
    elif current.target == target and current.higher_is_better == higher_is_better:
        return current
    current.target, current.higher_is_better = target, higher_is_better
    current.updated_at, current.updated_by = now, actor
    current.save()
    _record(current, before, _describe(current), actor, now)
    return current


def _describe(target: KpiTarget | None) -> str:
    if target is None:
        return ""
    return f"{'>=' if target.higher_is_better else '<='} {target.target}"


def _record(target: KpiTarget, before: str, after: str, actor: Any, now: datetime) -> None:
    event_record(
        obj=target,
        kind="report.target_set",
        actor=actor,
        now=now,
        from_state=before[:40],
        to_state=after[:40],
        data={"kpi": target.kpi},
    )
