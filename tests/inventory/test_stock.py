"""The stock rules: levels never go negative and the ledger always adds up,
purchase orders are received in parts but never beyond what was ordered,
receiving in a datacenter is a senior engineer's job and linked to a
customer, servers become configuration items, the reorder alert goes out
once per shortage, and stock counts book their differences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from events.models import Event
from events.tasks import send_notifications
from inventory.models import (
    ConfigurationItem,
    CountStatus,
    ItemStatus,
    Location,
    MovementKind,
    OrderStatus,
    Product,
    ProductKind,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockCount,
    StockLevel,
    StockMovement,
    Supplier,
)
from inventory.stock_services import (
    product_save,
    purchase_order_create,
    stock_count_close,
    stock_count_create,
    stock_count_record,
    stock_counts_schedule,
    stock_issue,
    stock_move,
    stock_receive,
    stock_transfer,
)
from tests.base import Personas
from tickets.models import Task, TaskStatus

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Amsterdam
TODAY = date(2026, 11, 25)


def place(code: str) -> Location:
    return Location.objects.get(code=code)


def supplier(name: str = "Dell Technologies") -> Supplier:
    return Supplier.objects.get_or_create(name=name)[0]


def product(
    sku: str = "ssd-960",
    *,
    kind: str = ProductKind.PART,
    item_kind: str = "",
    reorder_level: int = 0,
    unit_price: str = "180.00",
    active: bool = True,
) -> Product:
    return Product.objects.create(
        sku=sku,
        name=sku.upper(),
        kind=kind,
        item_kind=item_kind,
        unit_price=Decimal(unit_price),
        reorder_level=reorder_level,
        supplier=supplier(),
        active=active,
    )


def server(sku: str = "srv-r650") -> Product:
    return product(sku, kind=ProductKind.SERVER, item_kind="physical", unit_price="6450.00")


def stock(personas: Personas, item: Product, code: str, quantity: int) -> None:
    stock_move(
        product=item,
        location=place(code),
        quantity=quantity,
        kind=MovementKind.COUNT,
        actor=personas.itm,
        now=NOW,
        note="opening stock",
    )


def level(item: Product, code: str) -> int:
    row = StockLevel.objects.filter(product=item, location__code=code).first()
    return row.quantity if row else 0


def order(
    personas: Personas,
    lines: list[tuple[Product, int]],
    *,
    destination: str = "mls",
    customer: object = None,
) -> PurchaseOrder:
    return purchase_order_create(
        supplier=supplier(),
        destination=place(destination),
        customer=customer,  # type: ignore[arg-type]
        expected_on=TODAY + timedelta(days=3),
        lines=[(item, quantity, item.unit_price) for item, quantity in lines],
        actor=personas.sr,
        now=NOW,
    )


def first_line(purchase: PurchaseOrder) -> PurchaseOrderLine:
    return purchase.lines.order_by("id").first()  # type: ignore[return-value]


def assert_ledger_matches(item: Product, code: str) -> None:
    movements = StockMovement.objects.filter(product=item, location__code=code)
    total = movements.aggregate(total=Sum("quantity"))["total"] or 0
    latest = movements.order_by("-created_at", "-id").first()
    assert total == level(item, code)
    assert latest is None or latest.balance_after == level(item, code)


# --- The ledger -------------------------------------------------------------------


def test_it_never_lets_a_level_go_below_zero(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 3)
    with pytest.raises(ValidationError) as refused:
        stock_issue(product=disk, location=place("mls"), quantity=4, actor=personas.jr, now=NOW)
    assert "Not enough stock" in str(refused.value.message_dict["quantity"])
    assert level(disk, "mls") == 3
    assert StockMovement.objects.filter(kind=MovementKind.ISSUE).count() == 0


def test_it_refuses_an_issue_where_the_product_never_was(personas: Personas) -> None:
    disk = product()
    with pytest.raises(ValidationError):
        stock_issue(product=disk, location=place("ams2"), quantity=1, actor=personas.jr, now=NOW)
    assert level(disk, "ams2") == 0


def test_the_database_itself_refuses_a_negative_level(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(product=disk).update(quantity=-1)


def test_it_keeps_the_ledger_balance_equal_to_the_level(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 10)
    stock_issue(
        product=disk,
        location=place("mls"),
        quantity=3,
        customer=personas.customer,
        actor=personas.jr,
        now=NOW,
    )
    stock_transfer(
        product=disk,
        source=place("mls"),
        destination=place("ams1"),
        quantity=2,
        actor=personas.sr,
        now=NOW,
    )
    stock_issue(product=disk, location=place("ams1"), quantity=1, actor=personas.sr, now=NOW)
    assert (level(disk, "mls"), level(disk, "ams1")) == (5, 1)
    assert_ledger_matches(disk, "mls")
    assert_ledger_matches(disk, "ams1")
    balances = list(
        StockMovement.objects.filter(product=disk, location__code="mls")
        .order_by("created_at", "id")
        .values_list("kind", "quantity", "balance_after")
    )
    assert balances == [("count", 10, 10), ("issue", -3, 7), ("transfer_out", -2, 5)]
    issue = StockMovement.objects.get(kind=MovementKind.ISSUE, location__code="mls")
    assert (issue.customer, issue.actor) == (personas.customer, personas.jr)


def test_a_transfer_beyond_the_stock_changes_nothing(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 2)
    with pytest.raises(ValidationError):
        stock_transfer(
            product=disk,
            source=place("mls"),
            destination=place("ams1"),
            quantity=3,
            actor=personas.sr,
            now=NOW,
        )
    assert (level(disk, "mls"), level(disk, "ams1")) == (2, 0)
    assert StockMovement.objects.filter(kind__startswith="transfer").count() == 0


def test_only_a_senior_engineer_moves_stock_into_a_datacenter(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 2)
    with pytest.raises(ValidationError) as refused:
        stock_transfer(
            product=disk,
            source=place("mls"),
            destination=place("ams1"),
            quantity=1,
            actor=personas.jr,
            now=NOW,
        )
    assert "destination" in refused.value.message_dict
    stock_transfer(
        product=disk,
        source=place("mls"),
        destination=place("ams1"),
        quantity=1,
        actor=personas.sr,
        now=NOW,
    )
    assert level(disk, "ams1") == 1


def test_sales_cannot_move_stock(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 2)
    with pytest.raises(PermissionDenied):
        stock_issue(product=disk, location=place("mls"), quantity=1, actor=personas.sales, now=NOW)


def test_a_machine_is_issued_by_its_serial_number(personas: Personas) -> None:
    box = server()
    purchase = order(personas, [(box, 1)])
    stock_receive(
        line=first_line(purchase), quantity=1, actor=personas.jr, now=NOW, serial_numbers=["SN1"]
    )
    with pytest.raises(ValidationError) as refused:
        stock_issue(product=box, location=place("mls"), quantity=1, actor=personas.jr, now=NOW)
    assert "item" in refused.value.message_dict
    machine = ConfigurationItem.objects.get(serial_number="SN1")
    movement = stock_issue(
        product=box, location=place("mls"), quantity=1, item=machine, actor=personas.jr, now=NOW
    )
    assert (movement.item, level(box, "mls")) == (machine, 0)


# --- Purchase orders and receiving ------------------------------------------------


def test_ordering_is_for_senior_engineers_and_it_managers(personas: Personas) -> None:
    disk = product()
    arguments = {
        "supplier": supplier(),
        "destination": place("mls"),
        "expected_on": TODAY,
        "lines": [(disk, 5, Decimal("175.00"))],
        "now": NOW,
    }
    with pytest.raises(PermissionDenied):
        purchase_order_create(actor=personas.jr, **arguments)  # type: ignore[arg-type]
    first = purchase_order_create(actor=personas.sr, **arguments)  # type: ignore[arg-type]
    second = purchase_order_create(actor=personas.itm, **arguments)  # type: ignore[arg-type]
    assert first.number == f"PO-{first.pk:06d}"
    assert second.number == f"PO-{second.pk:06d}"
    assert first.status == OrderStatus.ORDERED
    line = first_line(first)
    assert (line.quantity, line.unit_price, line.received_quantity) == (5, Decimal("175.00"), 0)
    assert Event.objects.filter(kind="purchase_order.created").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expected_on": TODAY - timedelta(days=1)}, "expected_on"),
        ({"lines": []}, "lines"),
        ({"lines": "twice"}, "lines"),
        ({"lines": "zero"}, "lines"),
    ],
)
def test_an_order_needs_sensible_lines_and_dates(
    personas: Personas, change: dict, field: str
) -> None:
    disk = product()
    lines: object = [(disk, 1, Decimal(1))]
    if change.get("lines") == "twice":
        lines = [(disk, 1, Decimal(1)), (disk, 2, Decimal(1))]
    elif change.get("lines") == "zero":
        lines = [(disk, 0, Decimal(1))]
    elif "lines" in change:
        lines = change["lines"]
    with pytest.raises(ValidationError) as refused:
        purchase_order_create(
            supplier=supplier(),
            destination=place("mls"),
            expected_on=change.get("expected_on", TODAY),
            lines=lines,  # type: ignore[arg-type]
            actor=personas.sr,
            now=NOW,
        )
    assert field in refused.value.message_dict
    assert not PurchaseOrder.objects.exists()


def test_it_receives_a_delivery_in_parts(personas: Personas) -> None:
    disk = product()
    purchase = order(personas, [(disk, 5)])
    line = first_line(purchase)
    receipt = stock_receive(line=line, quantity=2, actor=personas.jr, now=NOW)
    purchase.refresh_from_db()
    line.refresh_from_db()
    assert (purchase.status, purchase.received_at) == (OrderStatus.PARTIAL, None)
    assert (line.received_quantity, line.outstanding, level(disk, "mls")) == (2, 3, 2)
    assert (receipt.received_by, receipt.location.code, receipt.quantity) == (personas.jr, "mls", 2)
    later = NOW + timedelta(days=1)
    stock_receive(line=line, quantity=3, actor=personas.sr, now=later)
    purchase.refresh_from_db()
    assert (purchase.status, purchase.received_at) == (OrderStatus.RECEIVED, later)
    assert level(disk, "mls") == 5
    assert list(
        Receipt.objects.order_by("received_at").values_list("received_by__username", flat=True)
    ) == ["jr", "sr"]
    movement = StockMovement.objects.filter(kind=MovementKind.RECEIPT).first()
    assert movement is not None and movement.order_line == line
    assert_ledger_matches(disk, "mls")


def test_an_order_stays_partial_until_every_line_is_in(personas: Personas) -> None:
    disk, memory = product(), product("ram-32g")
    purchase = order(personas, [(disk, 2), (memory, 2)])
    disk_line, memory_line = list(purchase.lines.order_by("id"))
    stock_receive(line=disk_line, quantity=2, actor=personas.jr, now=NOW)
    purchase.refresh_from_db()
    assert purchase.status == OrderStatus.PARTIAL
    stock_receive(line=memory_line, quantity=2, actor=personas.jr, now=NOW)
    purchase.refresh_from_db()
    assert purchase.status == OrderStatus.RECEIVED


def test_it_refuses_more_than_is_outstanding(personas: Personas) -> None:
    disk = product()
    line = first_line(order(personas, [(disk, 5)]))
    with pytest.raises(ValidationError) as refused:
        stock_receive(line=line, quantity=6, actor=personas.jr, now=NOW)
    assert "quantity" in refused.value.message_dict
    stock_receive(line=line, quantity=2, actor=personas.jr, now=NOW)
    with pytest.raises(ValidationError):
        stock_receive(line=line, quantity=4, actor=personas.jr, now=NOW)
    line.refresh_from_db()
    assert (line.received_quantity, level(disk, "mls"), Receipt.objects.count()) == (2, 2, 1)


def test_a_received_order_takes_no_more(personas: Personas) -> None:
    disk = product()
    line = first_line(order(personas, [(disk, 1)]))
    stock_receive(line=line, quantity=1, actor=personas.jr, now=NOW)
    with pytest.raises(ValidationError):
        stock_receive(line=line, quantity=1, actor=personas.jr, now=NOW)


def test_the_database_refuses_an_over_received_line(personas: Personas) -> None:
    line = first_line(order(personas, [(product(), 1)]))
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrderLine.objects.filter(pk=line.pk).update(received_quantity=2)


def test_in_a_datacenter_only_a_senior_engineer_receives(personas: Personas) -> None:
    disk = product()
    line = first_line(order(personas, [(disk, 4)], destination="ams1", customer=personas.customer))
    with pytest.raises(ValidationError) as refused:
        stock_receive(line=line, quantity=1, actor=personas.jr, now=NOW)
    assert "location" in refused.value.message_dict
    # The same junior may put it away in the office instead.
    stock_receive(line=line, quantity=1, actor=personas.jr, now=NOW, location=place("mls"))
    receipt = stock_receive(line=line, quantity=2, actor=personas.sr, now=NOW)
    assert (receipt.location.code, receipt.customer) == ("ams1", personas.customer)
    assert (level(disk, "ams1"), level(disk, "mls")) == (2, 1)
    movement = StockMovement.objects.filter(location__code="ams1").get()
    assert movement.customer == personas.customer


def test_goods_in_a_datacenter_are_linked_to_a_customer(personas: Personas) -> None:
    disk = product()
    line = first_line(order(personas, [(disk, 4)], destination="ams1"))
    with pytest.raises(ValidationError) as refused:
        stock_receive(line=line, quantity=1, actor=personas.sr, now=NOW)
    assert "customer" in refused.value.message_dict
    receipt = stock_receive(
        line=line, quantity=1, actor=personas.sr, now=NOW, customer=personas.other_customer
    )
    assert receipt.customer == personas.other_customer


def test_goods_of_a_customers_order_are_not_linked_to_another(personas: Personas) -> None:
    line = first_line(order(personas, [(product(), 2)], customer=personas.customer))
    with pytest.raises(ValidationError) as refused:
        stock_receive(
            line=line, quantity=1, actor=personas.sr, now=NOW, customer=personas.other_customer
        )
    assert "customer" in refused.value.message_dict


def test_received_servers_become_configuration_items_in_stock(personas: Personas) -> None:
    box = server()
    line = first_line(order(personas, [(box, 3)], destination="ams1", customer=personas.customer))
    stock_receive(
        line=line,
        quantity=2,
        actor=personas.sr,
        now=NOW,
        serial_numbers=["CZ001", " CZ002 "],
    )
    machines = list(ConfigurationItem.objects.order_by("serial_number"))
    assert [m.serial_number for m in machines] == ["CZ001", "CZ002"]
    for machine in machines:
        assert machine.status == ItemStatus.IN_STOCK
        assert machine.kind == "physical"
        assert machine.machine_type == box.name
        assert (machine.location, machine.customer, machine.product) == (
            place("ams1"),
            personas.customer,
            box,
        )
    movements = StockMovement.objects.filter(product=box).order_by("id")
    assert [(m.quantity, m.item) for m in movements] == [(1, machines[0]), (1, machines[1])]
    assert level(box, "ams1") == 2
    assert_ledger_matches(box, "ams1")


@pytest.mark.parametrize(
    "serials",
    [[], ["A1"], ["A1", "A1"], ["A1", "A2", "A3"], ["KNOWN", "A2"]],
)
def test_a_server_needs_one_new_serial_number_per_unit(
    personas: Personas, serials: list[str]
) -> None:
    box = server()
    known = first_line(order(personas, [(box, 1)]))
    stock_receive(line=known, quantity=1, actor=personas.jr, now=NOW, serial_numbers=["KNOWN"])
    line = first_line(order(personas, [(box, 5)]))
    with pytest.raises(ValidationError) as refused:
        stock_receive(line=line, quantity=2, actor=personas.jr, now=NOW, serial_numbers=serials)
    assert "serial_numbers" in refused.value.message_dict
    line.refresh_from_db()
    assert line.received_quantity == 0
    assert ConfigurationItem.objects.count() == 1


def test_plain_stock_takes_no_serial_numbers(personas: Personas) -> None:
    line = first_line(order(personas, [(product(), 1)]))
    with pytest.raises(ValidationError) as refused:
        stock_receive(line=line, quantity=1, actor=personas.jr, now=NOW, serial_numbers=["X"])
    assert "serial_numbers" in refused.value.message_dict


def test_sales_cannot_register_receipts(personas: Personas) -> None:
    line = first_line(order(personas, [(product(), 1)]))
    with pytest.raises(PermissionDenied):
        stock_receive(line=line, quantity=1, actor=personas.sales, now=NOW)


# --- Reorder alerts ----------------------------------------------------------------


def alerts() -> int:
    return Event.objects.filter(kind="product.below_reorder_level").count()


def test_the_reorder_alert_goes_out_once_and_rearms(personas: Personas) -> None:
    disk = product(reorder_level=5)
    stock(personas, disk, "mls", 8)
    stock(personas, disk, "ams1", 2)
    assert alerts() == 0
    mls = place("mls")

    def issue(quantity: int) -> None:
        stock_issue(product=disk, location=mls, quantity=quantity, actor=personas.jr, now=NOW)

    issue(4)  # 6 in all: above the level
    assert alerts() == 0
    issue(1)  # 5 in all: at the level
    assert alerts() == 1
    disk.refresh_from_db()
    assert disk.reorder_alerted_at == NOW
    issue(1)  # still short: no second alert
    assert alerts() == 1
    line = first_line(order(personas, [(disk, 10)]))
    stock_receive(line=line, quantity=10, actor=personas.jr, now=NOW)
    disk.refresh_from_db()
    assert disk.reorder_alerted_at is None
    issue(10)  # short again: a new shortage, a new alert
    assert alerts() == 2


def test_the_reorder_alert_mails_senior_engineers_and_it_managers(personas: Personas) -> None:
    disk = product(reorder_level=2)
    stock(personas, disk, "mls", 3)
    mail.outbox.clear()
    stock_issue(product=disk, location=place("mls"), quantity=1, actor=personas.jr, now=NOW)
    send_notifications()
    recipients = sorted(address for message in mail.outbox for address in message.to)
    # sr and head are senior engineers; itm is the IT manager.
    assert recipients == ["head@example.test", "itm@example.test", "sr@example.test"]
    assert "ssd-960" in str(mail.outbox[0].subject)
    assert "/network/stock/products/ssd-960/" in mail.outbox[0].body


def test_a_product_without_a_reorder_level_never_alerts(personas: Personas) -> None:
    disk = product(reorder_level=0)
    stock(personas, disk, "mls", 1)
    stock_issue(product=disk, location=place("mls"), quantity=1, actor=personas.jr, now=NOW)
    assert alerts() == 0


def test_raising_the_reorder_level_alerts_at_once(personas: Personas) -> None:
    disk = product(reorder_level=0)
    stock(personas, disk, "mls", 3)
    product_save(actor=personas.itm, now=NOW, product=disk, reorder_level=4)
    assert alerts() == 1
    event = Event.objects.get(kind="product.changed")
    assert event.data["changes"] == {"reorder_level": [0, 4]}


def test_products_are_edited_by_it_managers_and_keep_their_sku(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        product_save(actor=personas.jr, now=NOW, sku="x", name="X", kind="part")
    created = product_save(actor=personas.itm, now=NOW, sku="x", name="X", kind="part")
    with pytest.raises(ValidationError):
        product_save(actor=personas.itm, now=NOW, product=created, sku="y")
    with pytest.raises(ValidationError) as refused:
        product_save(actor=personas.itm, now=NOW, sku="x", name="X again", kind="part")
    assert "sku" in refused.value.message_dict


# --- Stock counts -----------------------------------------------------------------


def new_count(personas: Personas, code: str = "mls", controller: object = None) -> StockCount:
    return stock_count_create(
        location=place(code),
        controller=controller or personas.jr,  # type: ignore[arg-type]
        due_on=TODAY + timedelta(days=7),
        actor=personas.itm,
        now=NOW,
    )


def test_a_count_covers_the_products_at_the_location_and_is_a_task(personas: Personas) -> None:
    disk, memory, gone, elsewhere = (
        product(),
        product("ram-32g"),
        product("old-disk", active=False),
        product("cat6"),
    )
    stock(personas, disk, "mls", 4)
    stock(personas, memory, "mls", 1)
    stock_issue(product=memory, location=place("mls"), quantity=1, actor=personas.jr, now=NOW)
    stock(personas, gone, "mls", 2)  # no longer sold, but it is there
    stock(personas, elsewhere, "ams1", 9)
    count = new_count(personas)
    assert sorted(count.lines.values_list("product__sku", flat=True)) == [
        "old-disk",
        "ram-32g",
        "ssd-960",
    ]
    task = count.task
    assert task is not None
    assert (task.assignee, task.due_date, task.link_id) == (personas.jr, count.due_on, count.pk)
    with pytest.raises(ValidationError) as refused:
        new_count(personas)
    assert "location" in refused.value.message_dict


def test_only_managers_assign_counts(personas: Personas) -> None:
    stock(personas, product(), "mls", 1)
    with pytest.raises(PermissionDenied):
        stock_count_create(
            location=place("mls"), controller=personas.jr, due_on=TODAY, actor=personas.sr, now=NOW
        )


def test_closing_a_count_books_the_differences(personas: Personas) -> None:
    disk, memory, cable = product(), product("ram-32g"), product("cat6")
    stock(personas, disk, "mls", 10)
    stock(personas, memory, "mls", 5)
    stock(personas, cable, "mls", 20)
    count = new_count(personas)
    stock_count_record(
        count=count,
        counted={disk.pk: 8, memory.pk: 5, cable.pk: 23},
        actor=personas.jr,
        now=NOW,
    )
    # An issue while the count is open is part of the book quantity at closing.
    stock_issue(product=disk, location=place("mls"), quantity=1, actor=personas.sr, now=NOW)
    later = NOW + timedelta(hours=2)
    stock_count_close(count=count, actor=personas.jr, now=later)
    assert (level(disk, "mls"), level(memory, "mls"), level(cable, "mls")) == (8, 5, 23)
    lines = {line.product.sku: (line.expected, line.difference) for line in count.lines.all()}
    assert lines == {"ssd-960": (9, -1), "ram-32g": (5, 0), "cat6": (20, 3)}
    booked = StockMovement.objects.filter(kind=MovementKind.COUNT, created_at=later)
    assert sorted(booked.values_list("product__sku", "quantity")) == [("cat6", 3), ("ssd-960", -1)]
    for item in (disk, memory, cable):
        assert_ledger_matches(item, "mls")
    count.refresh_from_db()
    assert (count.status, count.closed_at) == (CountStatus.DONE, later)
    assert Task.objects.filter(pk=count.task_id or 0, status=TaskStatus.CLOSED).exists()
    with pytest.raises(ValidationError):
        stock_count_close(count=count, actor=personas.jr, now=later)


def test_a_count_is_closed_only_when_every_line_is_counted(personas: Personas) -> None:
    disk, memory = product(), product("ram-32g")
    stock(personas, disk, "mls", 1)
    stock(personas, memory, "mls", 1)
    count = new_count(personas)
    stock_count_record(count=count, counted={disk.pk: 1}, actor=personas.jr, now=NOW)
    with pytest.raises(ValidationError):
        stock_count_close(count=count, actor=personas.jr, now=NOW)


def test_only_the_controller_or_a_manager_works_the_count(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 2)
    count = new_count(personas, controller=personas.jr)
    with pytest.raises(PermissionDenied):
        stock_count_record(count=count, counted={disk.pk: 2}, actor=personas.sr, now=NOW)
    stock_count_record(count=count, counted={disk.pk: 2}, actor=personas.jr, now=NOW)
    with pytest.raises(PermissionDenied):
        stock_count_close(count=count, actor=personas.sr, now=NOW)
    stock_count_close(count=count, actor=personas.itm, now=NOW)
    count.refresh_from_db()
    assert count.status == CountStatus.DONE


def test_counts_are_scheduled_once_a_month_per_location(personas: Personas) -> None:
    disk = product()
    stock(personas, disk, "mls", 2)
    stock(personas, disk, "ams1", 2)
    created = stock_counts_schedule(now=NOW)
    assert sorted(c.location.code for c in created) == ["ams1", "mls"]
    assert {(c.controller, c.due_on) for c in created} == {(personas.itm, date(2026, 11, 30))}
    assert stock_counts_schedule(now=NOW + timedelta(days=1)) == []
    # Closed, and a month later: counted again, by the same controller.
    for count in created:
        stock_count_record(count=count, counted={disk.pk: 2}, actor=personas.itm, now=NOW)
        stock_count_close(count=count, actor=personas.itm, now=NOW)
    assert stock_counts_schedule(now=NOW + timedelta(days=2)) == []
    december = stock_counts_schedule(now=datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    assert [c.due_on for c in december] == [date(2026, 12, 31)] * 2


def test_a_count_still_open_is_not_doubled_next_month(personas: Personas) -> None:
    stock(personas, product(), "mls", 2)
    new_count(personas)
    assert stock_counts_schedule(now=datetime(2026, 12, 1, 7, 0, tzinfo=UTC)) == []


def test_the_monthly_count_task_is_on_the_beat_schedule(personas: Personas) -> None:
    from inventory.tasks import schedule_stock_counts
    from servicedesk.celery import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["schedule-stock-counts"]
    assert entry["task"] == schedule_stock_counts.name == "inventory.schedule_stock_counts"
    assert entry["options"] == {"expires": 3600}
    stock(personas, product(), "mls", 1)
    assert schedule_stock_counts() == {"created": 1}
    assert schedule_stock_counts() == {"created": 0}
