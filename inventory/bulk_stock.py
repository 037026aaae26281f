"""The stock part of the bulk Network data (inventory/bulk.py): suppliers and products
(made once, reused by later runs), their levels at every location, and per run about 0.06
purchase orders per bulk customer (at least 20; 300 at 5,000 customers) with lines and
receipts, followed by what happens to the goods: issues to customers, transfers from the office
to a datacenter and the odd count difference.

The movements are applied in time order from each level's current quantity, so no balance goes
below zero and every level ends at its ledger's last balance. A later run continues each ledger
after its last movement (between it and `now`), so the ledgers stay in time order.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Max

from accounts.models import Customer, Grade, User
from inventory.models import (
    ConfigurationItem,
    ItemKind,
    ItemStatus,
    Location,
    MovementKind,
    OrderStatus,
    Product,
    ProductKind,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockLevel,
    StockMovement,
    Supplier,
)
from servicedesk.bulk import EventRow, content_type_id, event_row, ids_take, objects_insert

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ORDERS_PER_CUSTOMER = 0.06

SUPPLIERS = [
    "Bulk Distributie B.V.",
    "Bulk Hardware Groep",
    "Bulk Netwerk Supplies",
    "Bulk Kabel & Co",
    "Bulk Server Direct",
]
# sku, name, kind, becomes item of kind, unit price, reorder level, supplier
PRODUCTS: list[tuple[str, str, str, str, int, int, int]] = [
    ("bulk-ssd-960", "SSD 960 GB SATA", ProductKind.PART, "", 145, 10, 0),
    ("bulk-ssd-1920", "SSD 1.92 TB NVMe", ProductKind.PART, "", 260, 6, 0),
    ("bulk-hdd-4t", "HDD 4 TB SAS", ProductKind.PART, "", 120, 8, 0),
    ("bulk-ram-32", "RAM 32 GB DDR4 ECC", ProductKind.PART, "", 95, 12, 1),
    ("bulk-ram-64", "RAM 64 GB DDR5 ECC", ProductKind.PART, "", 210, 6, 1),
    ("bulk-psu-800", "PSU 800 W hot-plug", ProductKind.PART, "", 180, 4, 1),
    ("bulk-fan", "Fan module 1U", ProductKind.PART, "", 40, 6, 1),
    ("bulk-nic-10g", "NIC 10 GbE dual port", ProductKind.PART, "", 210, 4, 2),
    ("bulk-sfp-10g", "SFP+ 10G SR", ProductKind.PART, "", 35, 20, 2),
    ("bulk-sw-2930f", "HPE Aruba 2930F 48G", ProductKind.NETWORK, ItemKind.SWITCH, 2100, 0, 2),
    ("bulk-fw-60f", "Fortinet FortiGate 60F", ProductKind.NETWORK, ItemKind.FIREWALL, 900, 0, 2),
    ("bulk-cat6-2m", "Patch cable Cat6 2 m", ProductKind.CONSUMABLE, "", 3, 100, 3),
    ("bulk-cat6-5m", "Patch cable Cat6 5 m", ProductKind.CONSUMABLE, "", 5, 60, 3),
    ("bulk-dac-3m", "DAC cable 3 m", ProductKind.CONSUMABLE, "", 25, 20, 3),
    ("bulk-label", "Label tape 12 mm", ProductKind.CONSUMABLE, "", 12, 10, 3),
    ("bulk-rails", "Rail kit 1U", ProductKind.PART, "", 45, 4, 4),
    ("bulk-r650", "Dell PowerEdge R650", ProductKind.SERVER, ItemKind.PHYSICAL, 6400, 0, 4),
    ("bulk-dl380", "HPE ProLiant DL380 Gen10", ProductKind.SERVER, ItemKind.PHYSICAL, 7200, 0, 4),
]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=AMSTERDAM)


class Move(NamedTuple):
    """A planned change of one stock level; a transfer names its destination."""

    at: datetime
    product: Product
    location: int
    quantity: int
    kind: str
    actor: User
    customer_id: int | None = None
    item_id: int | None = None
    order_line_id: int | None = None
    note: str = ""
    to: int | None = None


def seed_stock(
    *,
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    now: datetime,
    years: float,
    counts: dict[str, int],
    events: list[EventRow],
) -> None:
    """Purchase orders with their receipts, then issues, transfers and count differences,
    applied in time order so no balance goes below zero; each level ends at its ledger's
    last balance. A later run continues every ledger after its last movement."""
    products = _products()
    locations = {loc.pk: loc for loc in Location.objects.all()}
    levels = _levels(products, locations)
    last = StockMovement.objects.filter(product__in=products).aggregate(m=Max("created_at"))["m"]
    start = now - timedelta(days=365.25 * years)
    if last is not None:
        start = max(start, last + timedelta(seconds=1))
    end = now - timedelta(minutes=5)
    if end - start < timedelta(hours=2):
        counts["purchase orders"] = 0  # the ledgers reach `now` already
        return
    seniors = [e for e in engineers if e.grade == Grade.SENIOR] or list(engineers)
    moves = _orders(
        rng, customers, engineers, seniors, products, locations, start, end, counts, events
    )
    moves += _usage(rng, moves, customers, engineers, seniors, locations, end)
    movements = _ledger(moves, levels, {pk: loc.code for pk, loc in locations.items()})
    for movement, pk in zip(movements, ids_take(StockMovement, len(movements)), strict=True):
        movement.pk = pk
    objects_insert(StockMovement, movements)
    StockLevel.objects.bulk_update(levels.values(), ["quantity"], batch_size=500)
    totals: dict[int, int] = defaultdict(int)
    for level in levels.values():
        totals[level.product_id] += level.quantity
    for product in products:
        below = 0 < product.reorder_level >= totals[product.pk]
        product.reorder_alerted_at = (product.reorder_alerted_at or end) if below else None
    Product.objects.bulk_update(products, ["reorder_alerted_at"])
    counts["stock movements"] = len(movements)


def _products() -> list[Product]:
    Supplier.objects.bulk_create(
        [Supplier(name=name, email="orders@supplier.example") for name in SUPPLIERS],
        ignore_conflicts=True,
    )
    suppliers = dict(Supplier.objects.filter(name__in=SUPPLIERS).values_list("name", "pk"))
    Product.objects.bulk_create(
        [
            Product(
                sku=sku,
                name=name,
                kind=kind,
                item_kind=item_kind,
                unit_price=Decimal(price),
                reorder_level=reorder,
                supplier_id=suppliers[SUPPLIERS[supplier]],
            )
            for sku, name, kind, item_kind, price, reorder, supplier in PRODUCTS
        ],
        ignore_conflicts=True,
    )
    return list(Product.objects.filter(sku__in=[row[0] for row in PRODUCTS]).order_by("sku"))


def _levels(
    products: list[Product], locations: dict[int, Location]
) -> dict[tuple[int, int], StockLevel]:
    StockLevel.objects.bulk_create(
        [StockLevel(product=p, location_id=loc) for p in products for loc in locations],
        ignore_conflicts=True,
    )
    return {
        (level.product_id, level.location_id): level
        for level in StockLevel.objects.filter(product__in=products)
    }


def _orders(
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    seniors: list[User],
    products: list[Product],
    locations: dict[int, Location],
    start: datetime,
    end: datetime,
    counts: dict[str, int],
    events: list[EventRow],
) -> list[Move]:
    """Orders spread over [start, end), received around their expected day (mostly on
    time, sometimes split over two deliveries); the youngest are still outstanding."""
    count = max(20, round(len(customers) * ORDERS_PER_CUSTOMER))
    by_supplier: dict[int, list[Product]] = defaultdict(list)
    for product in products:
        by_supplier[product.supplier_id or 0].append(product)
    places = {loc.code: loc for loc in locations.values()}
    orders = []
    for pk, ordered in zip(
        ids_take(PurchaseOrder, count),
        sorted(_between(rng, start, end - timedelta(hours=1)) for _ in range(count)),
        strict=True,
    ):
        destination = places[rng.choices(["mls", "ams1", "ams2"], weights=[60, 20, 20])[0]]
        customer = (
            rng.choice(customers) if destination.is_datacenter or rng.random() < 0.2 else None
        )
        orders.append(
            PurchaseOrder(
                pk=pk,
                number=f"PO-{pk:06d}",
                supplier_id=rng.choice(list(by_supplier)),
                destination=destination,
                customer_id=customer.pk if customer else None,
                expected_on=ordered.astimezone(AMSTERDAM).date()
                + timedelta(days=rng.randint(2, 10)),
                status=OrderStatus.CANCELLED if rng.random() < 0.03 else OrderStatus.ORDERED,
                ordered_by=rng.choice(seniors),
                ordered_at=ordered,
            )
        )
    specs = [
        (order, product)
        for order in orders
        for product in rng.sample(
            by_supplier[order.supplier_id],
            rng.randint(1, min(3, len(by_supplier[order.supplier_id]))),
        )
    ]
    lines = [
        PurchaseOrderLine(
            pk=pk,
            order=order,
            product=product,
            quantity=_order_quantity(rng, product),
            unit_price=product.unit_price,
        )
        for pk, (order, product) in zip(ids_take(PurchaseOrderLine, len(specs)), specs, strict=True)
    ]
    receipts = _receipts(rng, lines, engineers, seniors, end)
    objects_insert(PurchaseOrder, orders)
    objects_insert(PurchaseOrderLine, lines)
    objects_insert(Receipt, receipts)
    events += _order_events(orders, receipts)
    counts["purchase orders"] = len(orders)
    counts["order lines"] = len(lines)
    counts["receipts"] = len(receipts)
    return _receipt_moves(receipts, counts)


def _order_quantity(rng: random.Random, product: Product) -> int:
    if product.item_kind:
        return rng.randint(1, 2)
    if product.kind == ProductKind.CONSUMABLE:
        return rng.randint(20, 100)
    return rng.randint(2, 12)


def _receipts(
    rng: random.Random,
    lines: list[PurchaseOrderLine],
    engineers: Sequence[User],
    seniors: list[User],
    end: datetime,
) -> list[Receipt]:
    """Receipts of every line of orders not cancelled, around the expected day; those that
    would lie after `end` have not happened. Sets the lines' received quantities and the
    orders' status."""
    specs = []
    for line in lines:
        order = line.order
        if order.status == OrderStatus.CANCELLED:
            continue
        split = line.quantity > 1 and rng.random() < 0.15
        parts = (
            [line.quantity // 2, line.quantity - line.quantity // 2] if split else [line.quantity]
        )
        expected = _local(order.expected_on, 9)
        for n, part in enumerate(parts):
            delay = rng.choices([-2, -1, 0, 1, 2, 5], weights=[10, 20, 45, 12, 8, 5])[0]
            at = expected + timedelta(days=delay + 4 * n, hours=rng.uniform(0, 8))
            at = max(at, order.ordered_at + timedelta(hours=1))
            if at >= end:
                break
            line.received_quantity += part
            specs.append((line, part, at))
    by_order: dict[int, list[PurchaseOrderLine]] = defaultdict(list)
    for line in lines:
        by_order[line.order.pk].append(line)
    receipts = []
    for pk, (line, part, at) in zip(ids_take(Receipt, len(specs)), specs, strict=True):
        order = line.order
        # A datacenter receipt is a senior engineer's, and linked to the order's customer.
        person = rng.choice(seniors if order.destination.is_datacenter else engineers)
        receipts.append(
            Receipt(
                pk=pk,
                order_line=line,
                quantity=part,
                location_id=order.destination.pk,
                customer_id=order.customer_id,
                received_by=person,
                received_at=at,
            )
        )
        order.received_at = max(order.received_at or at, at)
    for order_lines in by_order.values():
        order = order_lines[0].order
        if order.status == OrderStatus.CANCELLED:
            continue
        if all(line.received_quantity == line.quantity for line in order_lines):
            order.status = OrderStatus.RECEIVED
        else:
            order.status = OrderStatus.PARTIAL if order.received_at else OrderStatus.ORDERED
            order.received_at = None
    return receipts


def _order_events(orders: list[PurchaseOrder], receipts: list[Receipt]) -> list[EventRow]:
    order_type = content_type_id(PurchaseOrder)
    rows = [
        event_row(
            content_type=order_type,
            object_id=order.pk,
            object_ref=order.number or "",
            kind="purchase_order.created",
            at=order.ordered_at,
            actor=order.ordered_by,
            to_state=OrderStatus.ORDERED,
            data={"destination": order.destination.code},
        )
        for order in orders
    ]
    received: dict[int, int] = defaultdict(int)
    outstanding: dict[int, int] = defaultdict(int)
    for order in orders:
        outstanding[order.pk] = 0
    for receipt in receipts:
        outstanding[receipt.order_line.order.pk] += receipt.quantity
    for receipt in sorted(receipts, key=lambda r: r.received_at):
        order = receipt.order_line.order
        before = OrderStatus.PARTIAL if received[order.pk] else OrderStatus.ORDERED
        received[order.pk] += receipt.quantity
        after = OrderStatus.PARTIAL
        if received[order.pk] == outstanding[order.pk] and order.status == OrderStatus.RECEIVED:
            after = OrderStatus.RECEIVED
        rows.append(
            event_row(
                content_type=order_type,
                object_id=order.pk,
                object_ref=order.number or "",
                kind="purchase_order.received",
                at=receipt.received_at,
                actor=receipt.received_by,
                from_state=before,
                to_state=after,
                data={"product": receipt.order_line.product.sku, "quantity": receipt.quantity},
            )
        )
    return rows


def _receipt_moves(receipts: list[Receipt], counts: dict[str, int]) -> list[Move]:
    """A receipt moves its quantity in; a product that becomes machines arrives as one item
    per unit (in stock, by serial number), each with its own ledger row."""
    units = [(r, n) for r in receipts if r.order_line.product.item_kind for n in range(r.quantity)]
    items = []
    for pk, (receipt, _n) in zip(ids_take(ConfigurationItem, len(units)), units, strict=True):
        product = receipt.order_line.product
        items.append(
            ConfigurationItem(
                pk=pk,
                serial_number=f"BLK{pk:08d}",
                kind=product.item_kind,
                machine_type=product.name,
                customer_id=receipt.customer_id,
                location_id=receipt.location_id,
                status=ItemStatus.IN_STOCK,
                product=product,
                created_at=receipt.received_at,
                updated_at=receipt.received_at,
            )
        )
    objects_insert(ConfigurationItem, items)
    counts["machines in stock"] = len(items)
    moves = [
        Move(
            receipt.received_at,
            receipt.order_line.product,
            receipt.location_id,
            1,
            MovementKind.RECEIPT,
            receipt.received_by,
            receipt.customer_id,
            item.pk,
            receipt.order_line.pk,
            receipt.order_line.order.number or "",
        )
        for (receipt, _n), item in zip(units, items, strict=True)
    ]
    for receipt in receipts:
        if not receipt.order_line.product.item_kind:
            moves.append(
                Move(
                    receipt.received_at,
                    receipt.order_line.product,
                    receipt.location_id,
                    receipt.quantity,
                    MovementKind.RECEIPT,
                    receipt.received_by,
                    receipt.customer_id,
                    None,
                    receipt.order_line.pk,
                    receipt.order_line.order.number or "",
                )
            )
    return moves


def _usage(
    rng: random.Random,
    receipts: list[Move],
    customers: Sequence[Customer],
    engineers: Sequence[User],
    seniors: list[User],
    locations: dict[int, Location],
    end: datetime,
) -> list[Move]:
    """What happens to received goods afterwards: most is issued to customers bit by bit,
    some parts go from the office to a datacenter, and counts find the odd difference."""
    datacenters = [loc.pk for loc in locations.values() if loc.is_datacenter]
    moves = []
    for receipt in receipts:
        product = receipt.product
        if receipt.item_id is not None:
            continue  # machines leave stock on their own page, not as anonymous stock
        left = round(receipt.quantity * rng.uniform(0.5, 0.9))
        size = (5, 20) if product.kind == ProductKind.CONSUMABLE else (1, 3)
        while left > 0:
            take = min(left, rng.randint(*size))
            left -= take
            customer = rng.choice(customers)
            moves.append(
                Move(
                    _between(rng, receipt.at, end),
                    product,
                    receipt.location,
                    -take,
                    MovementKind.ISSUE,
                    rng.choice(engineers),
                    customer.pk,
                    note=f"for customer {customer.number}",
                )
            )
        if not locations[receipt.location].is_datacenter and rng.random() < 0.15:
            moves.append(
                Move(
                    _between(rng, receipt.at, end),
                    product,
                    receipt.location,
                    -rng.randint(1, 3),
                    MovementKind.TRANSFER_OUT,
                    rng.choice(seniors),  # putting stock away in a datacenter
                    to=rng.choice(datacenters),
                )
            )
        if rng.random() < 0.05:
            moves.append(
                Move(
                    _between(rng, receipt.at, end),
                    product,
                    receipt.location,
                    rng.choice((-1, 1)),
                    MovementKind.COUNT,
                    rng.choice(seniors),
                    note="count difference",
                )
            )
    return moves


def _ledger(
    moves: list[Move], levels: dict[tuple[int, int], StockLevel], codes: dict[int, str]
) -> list[StockMovement]:
    """Apply the moves in time order from each level's current quantity: a take larger
    than the balance is cut to it (or dropped at zero), so no balance goes below zero.
    Leaves every level at its last balance."""
    rows = []

    def book(move: Move, location: int, quantity: int, kind: str, note: str) -> None:
        level = levels[(move.product.pk, location)]
        level.quantity += quantity
        rows.append(
            StockMovement(
                product=move.product,
                location_id=location,
                kind=kind,
                quantity=quantity,
                balance_after=level.quantity,
                customer_id=move.customer_id,
                item_id=move.item_id,
                order_line_id=move.order_line_id,
                note=note,
                actor=move.actor,
                created_at=move.at,
            )
        )

    for move in sorted(moves, key=lambda m: m.at):
        quantity = move.quantity
        if quantity < 0:
            quantity = -min(-quantity, levels[(move.product.pk, move.location)].quantity)
            if quantity == 0:
                continue
        if move.to is None:
            book(move, move.location, quantity, move.kind, move.note)
            continue
        book(move, move.location, quantity, MovementKind.TRANSFER_OUT, f"to {codes[move.to]}")
        book(move, move.to, -quantity, MovementKind.TRANSFER_IN, f"from {codes[move.location]}")
    return rows
