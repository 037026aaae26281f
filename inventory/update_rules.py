"""The pure rules of machine updates: which classifier answers the research
gives, and how long an appointment occupies its machine. No ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

# How long a machine is taken out when the research named no downtime: the
# appointment still occupies the node for the install and its test.
DEFAULT_WINDOW = timedelta(minutes=60)


@dataclass(frozen=True)
class Research:
    """The research answers that decide the change's classification."""

    hostname: str
    in_production: bool
    redundancy_group: str
    causes_downtime: bool
    downtime_minutes: int | None
    workaround: str
    investment: bool = False
    investment_justification: str = ""


def change_answers(research: Research) -> tuple[dict[str, bool], dict[str, str]]:
    """The four classifier answers derived from the research, each "yes" with
    its written justification:
    - multiple users: the machine is in production and the update takes it down;
    - dependencies: the machine is one node of a redundancy group;
    - unsupported: it goes down and there is no workaround meanwhile;
    - investment: only when the engineer says so."""
    down = research.causes_downtime
    answers = {
        "multiple_users": research.in_production and down,
        "dependencies": bool(research.redundancy_group),
        "unsupported": down and not research.workaround.strip(),
        "investment": research.investment,
    }
    minutes = research.downtime_minutes or 0
    justifications = {
        "multiple_users": _(
            "%(host)s is in production; the update takes it down for about %(minutes)s minutes."
        )
        % {"host": research.hostname, "minutes": minutes},
        "dependencies": _("%(host)s is a node of redundancy group %(group)s.")
        % {"host": research.hostname, "group": research.redundancy_group},
        "unsupported": _("No workaround while %(host)s is down.") % {"host": research.hostname},
        "investment": research.investment_justification,
    }
    return answers, {q: why for q, why in justifications.items() if answers[q]}


def update_window(
    appointment_at: datetime, causes_downtime: bool | None, downtime_minutes: int | None
) -> tuple[datetime, datetime]:
    """The time an update occupies its machine: the expected downtime, or the
    default window when it causes none."""
    length = DEFAULT_WINDOW
    if causes_downtime and downtime_minutes:
        length = timedelta(minutes=downtime_minutes)
    return appointment_at, appointment_at + length


def windows_overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """Half-open intervals: one ending when the next starts do not overlap."""
    return a[0] < b[1] and b[0] < a[1]
