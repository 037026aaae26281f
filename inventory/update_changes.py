"""The change that carries a machine update: its classifier answers from the
research, its message and implementation plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from changes.models import Change
from changes.services import change_submit
from inventory.models import ItemStatus, MachineUpdate
from inventory.update_rules import Research, change_answers, update_window
from tickets.models import Impact


def update_change_submit(
    update: MachineUpdate,
    *,
    actor: Any,
    now: datetime,
    investment: bool = False,
    investment_justification: str = "",
    rollback_plan: str = "",
) -> Change:
    """The change that carries the update, classified from its research."""
    item = update.item
    answers, justifications = change_answers(
        Research(
            hostname=item.reference,
            in_production=item.status == ItemStatus.IN_PRODUCTION,
            redundancy_group=item.redundancy_group,
            causes_downtime=bool(update.causes_downtime),
            downtime_minutes=update.downtime_minutes,
            workaround=update.workaround,
            investment=investment,
            investment_justification=investment_justification,
        )
    )
    if answers["multiple_users"]:
        impact = Impact.HIGH
    elif update.causes_downtime:
        impact = Impact.MEDIUM
    else:
        impact = Impact.LOW
    window = (
        update_window(update.appointment_at, update.causes_downtime, update.downtime_minutes)
        if update.appointment_at
        else (None, None)
    )
    names = {
        "software": update.software,
        "current": update.current_version or "?",
        "new": update.new_version,
        "host": item.reference,
    }
    return change_submit(
        subject=(_("Update %(software)s %(current)s → %(new)s on %(host)s") % names)[:200],
        message=_change_message(update),
        impact=impact,
        urgency=Impact.MEDIUM,
        answers=answers,
        justifications=justifications,
        actor=actor,
        now=now,
        customer=item.customer,
        planned_start=window[0],
        planned_end=window[1],
        implementation_plan=_implementation_plan(update),
        rollback_plan=rollback_plan.strip(),
        affected_machines=[item.reference],
    )


def _change_message(update: MachineUpdate) -> str:
    lines = [
        _("Machine update %(number)s.") % {"number": update.number},
        "",
        update.impact,
        "",
        _("Source: %(source)s") % {"source": update.source or "—"},
        _("Downtime: %(minutes)s minutes") % {"minutes": update.downtime_minutes or 0},
        _("Customer wants it: %(answer)s")
        % {"answer": _("yes") if update.customer_wants_it else _("no")},
        _("Workaround: %(workaround)s") % {"workaround": update.workaround or "—"},
    ]
    if update.one_node_at_a_time:
        lines.append(
            _("Redundant (%(group)s): one node at a time.")
            % {"group": update.item.redundancy_group}
        )
    return "\n".join(lines)


def _implementation_plan(update: MachineUpdate) -> str:
    steps = [
        _("Agree the appointment with the customer and inform them."),
        _("Get the customer's approval."),
        _("Test %(software)s %(new)s following the update's test plan.")
        % {"software": update.software, "new": update.new_version},
        _("Install it on %(host)s.") % {"host": update.item.reference},
        _("Run the post-install test."),
        _("Register how it was done and inform the customer."),
    ]
    if update.one_node_at_a_time:
        steps.insert(3, _("Take one node of the redundancy group out at a time."))
    return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
