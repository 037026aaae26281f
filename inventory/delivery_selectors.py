"""Reads of deliveries that depend on who asks: staff see every delivery, a
customer user only their own company's, anyone else none; one that may not
be seen answers 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet
from django.http import Http404

from inventory import delivery_checklist as checklist
from inventory.models import Delivery, DeliveryStatus, DeliveryStep

BOARD_COLUMNS = (
    DeliveryStatus.REQUESTED,
    DeliveryStatus.IN_PROGRESS,
    DeliveryStatus.CUSTOMER_TEST,
    DeliveryStatus.ACCEPTED,
    DeliveryStatus.DELIVERED,
)
BOARD_LIMIT = 500


def deliveries_visible_to(user: Any) -> QuerySet[Delivery]:
    qs = Delivery.objects.select_related("customer", "engineer", "item")
    if getattr(user, "customer_id", None):
        return qs.filter(customer_id=user.customer_id)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def delivery_get(*, user: Any, number: str) -> Delivery:
    delivery = deliveries_visible_to(user).filter(number=number).first()
    if delivery is None:
        raise Http404("No such delivery")
    return delivery


def with_steps(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """Prefetch the names of the steps done (one query for all deliveries)."""
    return deliveries.prefetch_related(
        Prefetch("steps", queryset=DeliveryStep.objects.only("id", "delivery_id", "step"))
    )


def done_of(delivery: Delivery) -> set[str]:
    """The steps done, from the prefetch when there is one."""
    return {step.step for step in delivery.steps.all()}


@dataclass
class BoardCard:
    delivery: Delivery
    next_step: str | None
    next_label: str
    done: int
    total: int
    overdue: bool

    @property
    def waits_for_customer(self) -> bool:
        return self.next_step is not None and checklist.is_customer_step(self.next_step)


def board_card(delivery: Delivery, *, today: date) -> BoardCard:
    done = done_of(delivery)
    next_step = checklist.next_step(delivery.server_kind, done)
    count, total = checklist.progress(delivery.server_kind, done)
    open_ = delivery.status not in (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED)
    return BoardCard(
        delivery=delivery,
        next_step=next_step,
        next_label=str(dict(checklist.Step.choices).get(next_step, "")) if next_step else "",
        done=count,
        total=total,
        overdue=open_ and delivery.wanted_on < today,
    )


def delivery_board(
    user: Any, *, today: date, delivered_days: int = 30
) -> list[tuple[str, str, list[BoardCard]]]:
    """The board: open deliveries per status by wanted date, and those
    delivered in the last `delivered_days` days; each with its next step.
    Two queries whatever the number of deliveries."""
    qs = with_steps(
        deliveries_visible_to(user).filter(
            Q(status__in=BOARD_COLUMNS[:-1])
            | Q(
                status=DeliveryStatus.DELIVERED,
                delivered_at__date__gte=today - timedelta(days=delivered_days),
            )
        )
    ).order_by("wanted_on", "number")
    columns: dict[str, list[BoardCard]] = {status: [] for status in BOARD_COLUMNS}
    for delivery in qs[:BOARD_LIMIT]:
        columns[delivery.status].append(board_card(delivery, today=today))
    return [
        (status, str(DeliveryStatus(status).label), columns[status]) for status in BOARD_COLUMNS
    ]


@dataclass
class ChecklistRow:
    step: str
    label: str
    done: DeliveryStep | None
    may_record: bool
    by_customer: bool
    tickable: bool


def delivery_checklist(delivery: Delivery) -> list[ChecklistRow]:
    """Each applicable step with who did it when, or whether it may be done now."""
    recorded = {
        s.step: s for s in DeliveryStep.objects.filter(delivery=delivery).select_related("done_by")
    }
    open_ = delivery.status not in (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED)
    labels = dict(checklist.Step.choices)
    return [
        ChecklistRow(
            step=step,
            label=str(labels[step]),
            done=recorded.get(step),
            may_record=open_ and checklist.may_record(delivery.server_kind, step, recorded),
            by_customer=checklist.is_customer_step(step),
            tickable=checklist.is_staff_tickable(step),
        )
        for step in checklist.applicable_steps(delivery.server_kind)
    ]


def delivery_kpis(*, start: datetime, end: datetime) -> dict[str, Any]:
    """Deliveries delivered in [start, end): how many, their average lead
    time, the errors recorded during them, and how many the customer accepted
    on the first test."""
    delivered = Delivery.objects.filter(
        status=DeliveryStatus.DELIVERED, delivered_at__gte=start, delivered_at__lt=end
    )
    totals = delivered.aggregate(
        count=Count("id"),
        lead_time=Avg(F("delivered_at") - F("requested_at")),
        first_time=Count("id", filter=Q(customer_test_rounds=1)),
    )
    totals["machines"] = delivered.exclude(item=None).values("item").distinct().count()
    totals["issues"] = delivered.aggregate(issues=Count("issues"))["issues"]
    return totals
