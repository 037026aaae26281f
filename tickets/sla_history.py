"""From a ticket's event log to the facts the SLA engine needs. Pure: the
events come in as plain records, so the same function serves the services
(which store its result) and `sla_recompute` (which checks what is stored)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tickets.sla import Pause, SlaFacts, SlaTargets

# Statuses in which the clock stands still. A resolution that is reopened
# counts as a pause; the current resolution ends the clock instead.
WAITING = "waiting_on_customer"
RESOLVED = "resolved"
CLOSED = "closed"
STOPPED = {WAITING, RESOLVED, CLOSED}


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    kind: str
    from_state: str = ""
    to_state: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def facts_from_history(
    *, created_at: datetime, targets: SlaTargets, events: Iterable[HistoryEvent]
) -> SlaFacts:
    pauses: list[Pause] = []
    paused_since: datetime | None = None
    stopped_since: datetime | None = None  # resolved or closed
    first_response_at: datetime | None = None
    extended_until: datetime | None = None
    for event in sorted(events, key=lambda e: e.at):
        # A first public reply, or a resolution told to the customer before
        # any reply, meets the response target.
        if first_response_at is None and event.data.get("first_response"):
            first_response_at = event.at
        if event.kind == "ticket.extension_approved":
            extended_until = datetime.fromisoformat(event.data["until"])
        elif event.kind == "ticket.transition":
            to = event.to_state
            if to == WAITING and paused_since is None and stopped_since is None:
                paused_since = event.at
            elif to in (RESOLVED, CLOSED):
                if paused_since is not None:
                    pauses.append(Pause(paused_since, event.at))
                    paused_since = None
                stopped_since = stopped_since or event.at
            elif to not in STOPPED:
                # Back to work: whatever stopped the clock becomes a pause.
                began = paused_since or stopped_since
                if began is not None:
                    pauses.append(Pause(began, event.at))
                paused_since = stopped_since = None
    if paused_since is not None:
        pauses.append(Pause(paused_since, None))
    return SlaFacts(
        created_at=created_at,
        targets=targets,
        pauses=tuple(pauses),
        first_response_at=first_response_at,
        resolved_at=stopped_since,
        extended_until=extended_until,
    )
