"""The delivery checklist as pure rules: which steps apply to a delivery of
a kind, in which order they may be recorded, which one is next and who
records it. No ORM: the services pass the kind and the set of steps done.

The order is DeliveryStepName's. A physical server is ordered, delivered by
the supplier, unpacked and registered; a virtual one is created and
registered; then both go OS → software installed → configured → tested →
customer account → customer test → documented → confirmation letter →
handed over.

One exception to "every earlier step first": the environment may be
documented any time after the software is tested, so the engineer can write
the document while the customer is testing (the source has it after the
customer's test, but nothing in it needs the test's outcome; the document
is generated from Network data and is what the customer tests against). The
confirmation letter, which sends the document, needs it done.
"""

from __future__ import annotations

from collections.abc import Collection

from inventory.models import DeliveryStepName as Step
from inventory.models import ServerKind

ALL_STEPS: tuple[str, ...] = tuple(Step.values)

PHYSICAL_ONLY = frozenset({Step.ORDERED, Step.DELIVERED_BY_SUPPLIER, Step.UNPACKED})
VIRTUAL_ONLY = frozenset({Step.VPS_CREATED})

# Recorded only by the customer's acceptance in the portal.
CUSTOMER_STEPS = frozenset({Step.CUSTOMER_TEST})
# Recorded by their own action (which does more than tick the box): the
# confirmation letter is generated and mailed; handing over closes the delivery.
ACTION_STEPS = frozenset({Step.CONFIRMATION_SENT, Step.HANDED_OVER})

# A step that may be done out of order, and the last step it needs.
FLOATING: dict[str, str] = {Step.DOCUMENTED: Step.TESTED}


def applicable_steps(server_kind: str) -> tuple[str, ...]:
    """The steps of a delivery of this server kind, in order."""
    if server_kind == ServerKind.PHYSICAL:
        skip = VIRTUAL_ONLY
    elif server_kind == ServerKind.VIRTUAL:
        skip = PHYSICAL_ONLY
    else:
        raise ValueError(f"unknown server kind: {server_kind!r}")
    return tuple(step for step in ALL_STEPS if step not in skip)


def prerequisites(server_kind: str, step: str) -> tuple[str, ...]:
    """The steps that must be done before `step` may be recorded."""
    steps = applicable_steps(server_kind)
    if step not in steps:
        raise ValueError(f"{step!r} does not apply to a {server_kind} delivery")
    last = FLOATING.get(step)
    if last is not None:
        return steps[: steps.index(last) + 1]
    # The floating step's place in the order is after the steps it may
    # overtake, so "everything before" never asks for it too early.
    return steps[: steps.index(step)]


def missing_before(server_kind: str, step: str, done: Collection[str]) -> list[str]:
    """The prerequisites of `step` not done yet, in order."""
    return [s for s in prerequisites(server_kind, step) if s not in done]


def may_record(server_kind: str, step: str, done: Collection[str]) -> bool:
    """Whether `step` may be recorded now: it applies, is not done yet and
    every step it needs is done."""
    if step not in applicable_steps(server_kind) or step in done:
        return False
    return not missing_before(server_kind, step, done)


def open_steps(server_kind: str, done: Collection[str]) -> list[str]:
    """Every step that may be recorded now (more than one while the
    documentation floats), in order."""
    return [s for s in applicable_steps(server_kind) if may_record(server_kind, s, done)]


def next_step(server_kind: str, done: Collection[str]) -> str | None:
    """The first step not done, in checklist order; None when all are done."""
    for step in applicable_steps(server_kind):
        if step not in done:
            return step
    return None


def all_done(server_kind: str, done: Collection[str]) -> bool:
    return next_step(server_kind, done) is None


def progress(server_kind: str, done: Collection[str]) -> tuple[int, int]:
    """(steps done, steps in all) of the applicable steps."""
    steps = applicable_steps(server_kind)
    return sum(1 for s in steps if s in done), len(steps)


def is_customer_step(step: str) -> bool:
    return step in CUSTOMER_STEPS


def is_staff_tickable(step: str) -> bool:
    """Whether an engineer records `step` with the plain "done" action (not
    the customer's, and not one with its own action)."""
    return step not in CUSTOMER_STEPS and step not in ACTION_STEPS
