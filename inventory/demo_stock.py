"""Demo stock for `loaddemo`: two suppliers, six products with stock in the
Maassluis office and AMS1 (the DAC cables are below their reorder level), a
server order for customer 1000 of which one server and the disks arrived in
AMS1, an open cable order and a stock count due in Maassluis."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Customer, User
from inventory.models import ItemKind, Location, MovementKind, Product, ProductKind, Supplier
from inventory.stock_services import (
    product_save,
    purchase_order_create,
    stock_count_create,
    stock_move,
    stock_receive,
)

SUPPLIERS = [("Dell Technologies", "orders@dell.example"), ("Copaco", "sales@copaco.example")]

PRODUCTS = [
    # sku, name, kind, item kind, price, reorder level, supplier
    ("srv-r650", "Dell PowerEdge R650", ProductKind.SERVER, ItemKind.PHYSICAL, "6450.00", 0, 0),
    ("ssd-960", "SSD 960 GB SATA (Dell)", ProductKind.PART, "", "180.00", 6, 0),
    ("ram-32g", "DDR4 32 GB RDIMM", ProductKind.PART, "", "140.00", 8, 0),
    ("sw-s5248", "Dell S5248F-ON switch", ProductKind.NETWORK, ItemKind.SWITCH, "9800.00", 0, 0),
    ("cat6-2m", "Patch cable Cat6 2 m", ProductKind.CONSUMABLE, "", "3.50", 50, 1),
    ("dac-25g-3m", "DAC cable 25G SFP28 3 m", ProductKind.CONSUMABLE, "", "35.00", 10, 1),
]

OPENING = [
    # location, sku, quantity
    ("mls", "ssd-960", 10),
    ("mls", "ram-32g", 12),
    ("mls", "cat6-2m", 120),
    ("mls", "dac-25g-3m", 4),
    ("ams1", "ssd-960", 4),
    ("ams1", "ram-32g", 6),
    ("ams1", "cat6-2m", 40),
]


def load_demo_stock(staff: dict[str, User], now: datetime) -> None:
    if Product.objects.filter(sku="srv-r650").exists():
        return
    manager, senior = staff["itm"], staff["sr"]
    today = timezone.localdate(now)
    suppliers = [
        Supplier.objects.get_or_create(name=name, defaults={"email": email})[0]
        for name, email in SUPPLIERS
    ]
    products = {}
    for sku, name, kind, item_kind, price, reorder_level, supplier in PRODUCTS:
        products[sku] = product_save(
            actor=manager,
            now=now,
            sku=sku,
            name=name,
            kind=kind,
            item_kind=item_kind,
            unit_price=Decimal(price),
            reorder_level=reorder_level,
            supplier=suppliers[supplier],
            active=True,
        )
    places = {location.code: location for location in Location.objects.all()}
    for code, sku, quantity in OPENING:
        stock_move(
            product=products[sku],
            location=places[code],
            quantity=quantity,
            kind=MovementKind.COUNT,
            actor=manager,
            now=now,
            note="opening stock",
        )
    customer = Customer.objects.get(number="1000")
    servers = purchase_order_create(
        supplier=suppliers[0],
        destination=places["ams1"],
        customer=customer,
        expected_on=today + timedelta(days=3),
        lines=[
            (products["srv-r650"], 2, Decimal("6450.00")),
            (products["ssd-960"], 4, Decimal("175.00")),
        ],
        actor=senior,
        now=now,
        notes="Two web servers for Hoogendijk's new shop platform.",
    )
    server_line, disk_line = list(servers.lines.order_by("id"))
    stock_receive(
        line=server_line, quantity=1, actor=senior, now=now, serial_numbers=["CZ2R650DEMO1"]
    )
    stock_receive(line=disk_line, quantity=4, actor=senior, now=now)
    purchase_order_create(
        supplier=suppliers[1],
        destination=places["mls"],
        expected_on=today + timedelta(days=7),
        lines=[(products["dac-25g-3m"], 20, Decimal("32.50"))],
        actor=senior,
        now=now,
    )
    stock_count_create(
        location=places["mls"],
        controller=staff["jr"],
        due_on=today + timedelta(days=7),
        actor=manager,
        now=now,
    )
