"""Stock under concurrent transactions on PostgreSQL: issues racing for the
last units, receipts racing for the last of an order line, transfers in
opposite directions, and two schedulers making the monthly counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from events.models import Event
from inventory.models import (
    MovementKind,
    OrderStatus,
    PurchaseOrderLine,
    Receipt,
    StockCount,
    StockLevel,
    StockMovement,
)
from inventory.stock_services import (
    stock_counts_schedule,
    stock_issue,
    stock_receive,
    stock_transfer,
)
from tests.base import make_personas
from tests.concurrency import race
from tests.inventory.test_stock import NOW, first_line, level, order, place, product, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_issues_from_a_level_of_five_leave_exactly_zero() -> None:
    personas = make_personas()
    disk = product(reorder_level=2)
    stock(personas, disk, "mls", 5)
    mls = place("mls")

    succeeded, errors = race(
        lambda n: stock_issue(
            product=disk,
            location=mls,
            quantity=1,
            actor=personas.jr,
            now=NOW + timedelta(seconds=n),
        ),
        threads=8,
    )
    assert succeeded == 5
    assert len(errors) == 3
    assert all(isinstance(error, ValidationError) for error in errors), errors
    assert level(disk, "mls") == 0
    issues = StockMovement.objects.filter(product=disk, kind=MovementKind.ISSUE)
    assert issues.count() == 5
    # Every balance 4..0 exactly once: the issues were serialised on the row.
    assert sorted(issues.values_list("balance_after", flat=True)) == [0, 1, 2, 3, 4]
    assert StockMovement.objects.filter(product=disk).aggregate(t=Sum("quantity"))["t"] == 0
    # The shortage was announced once, however the issues interleaved.
    assert Event.objects.filter(kind="product.below_reorder_level").count() == 1


def test_issues_of_several_units_never_overdraw() -> None:
    personas = make_personas()
    disk = product()
    stock(personas, disk, "mls", 10)
    mls = place("mls")
    succeeded, errors = race(
        lambda n: stock_issue(product=disk, location=mls, quantity=3, actor=personas.jr, now=NOW),
        threads=6,
    )
    assert (succeeded, len(errors), level(disk, "mls")) == (3, 3, 1)
    latest = StockMovement.objects.filter(product=disk).order_by("-id").first()
    assert latest is not None and latest.balance_after == 1


def test_concurrent_receipts_never_exceed_the_ordered_quantity() -> None:
    personas = make_personas()
    disk = product()
    line = first_line(order(personas, [(disk, 5)]))

    succeeded, errors = race(
        lambda n: stock_receive(line=line, quantity=2, actor=personas.jr, now=NOW),
        threads=6,
    )
    assert succeeded == 2
    assert all(isinstance(error, ValidationError) for error in errors), errors
    line = PurchaseOrderLine.objects.select_related("order").get(pk=line.pk)
    assert line.received_quantity == 4
    assert Receipt.objects.filter(order_line=line).aggregate(t=Sum("quantity"))["t"] == 4
    assert level(disk, "mls") == 4
    assert line.order.status == OrderStatus.PARTIAL


def test_concurrent_receipts_of_all_lines_leave_the_order_received() -> None:
    personas = make_personas()
    items = [product(f"part-{n}") for n in range(4)]
    purchase = order(personas, [(item, 1) for item in items])
    lines = list(purchase.lines.order_by("id"))
    succeeded, errors = race(
        lambda n: stock_receive(line=lines[n], quantity=1, actor=personas.jr, now=NOW),
        threads=4,
    )
    assert (succeeded, errors) == (4, [])
    purchase.refresh_from_db()
    assert purchase.status == OrderStatus.RECEIVED


def test_transfers_in_opposite_directions_do_not_deadlock() -> None:
    personas = make_personas()
    disk = product()
    stock(personas, disk, "mls", 10)
    stock(personas, disk, "ams1", 10)
    places = [place("mls"), place("ams1")]

    def transfer(n: int) -> None:
        source, destination = places[n % 2], places[1 - n % 2]
        stock_transfer(
            product=disk,
            source=source,
            destination=destination,
            quantity=1,
            actor=personas.sr,
            now=NOW,
        )

    succeeded, errors = race(transfer, threads=8)
    assert (succeeded, errors) == (8, [])
    assert (level(disk, "mls"), level(disk, "ams1")) == (10, 10)
    assert StockLevel.objects.filter(product=disk).aggregate(t=Sum("quantity"))["t"] == 20


def test_two_schedulers_make_one_count_per_location() -> None:
    personas = make_personas()
    disk = product()
    stock(personas, disk, "mls", 1)
    stock(personas, disk, "ams1", 1)
    succeeded, errors = race(lambda n: stock_counts_schedule(now=NOW), threads=3)
    assert (succeeded, errors) == (3, [])
    assert sorted(StockCount.objects.values_list("location__code", flat=True)) == ["ams1", "mls"]
