"""Writes for Network stock: products, the movement ledger, purchase orders,
receiving, and stock counts.

`stock_move` is the one place a stock level changes. It adds to the level
with a conditional F() update, so two issues racing for the last unit
cannot both succeed (the loser's UPDATE matches no row), reads the new
balance back while it still holds the row lock, and writes the ledger row
in the same transaction. The CheckConstraint(quantity >= 0) on StockLevel
is the last line of defence behind it.

Lock order, so concurrent writers cannot deadlock: purchase order line →
stock level row(s) (several: by pk) → product row (the reorder check) →
purchase order row (its status). Every service takes them in that order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, Grade, User
from accounts.roles import Role
from accounts.selectors import users_in_role
from events.services import event_record, fields_apply
from inventory.models import (
    ConfigurationItem,
    CountStatus,
    ItemStatus,
    Location,
    MovementKind,
    OrderStatus,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
    Supplier,
)
from tickets.models import TaskStatus
from tickets.task_services import task_close, task_create

logger = logging.getLogger(__name__)

RECEIVABLE = (OrderStatus.ORDERED, OrderStatus.PARTIAL)

# --- Who may do what --------------------------------------------------------------


def _is_integration(actor: Any) -> bool:
    return bool(getattr(actor, "is_integration", False))


def may_order(user: Any) -> bool:
    """Ordering is for senior engineers and for whoever may change purchase
    orders (IT managers)."""
    return bool(
        getattr(user, "is_staff", False)
        and getattr(user, "is_active", False)
        and (
            getattr(user, "grade", "") == Grade.SENIOR
            or user.has_perm("inventory.change_purchaseorder")
        )
    )


def may_receive(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm("inventory.add_receipt"))


def may_receive_in(user: Any, location: Location) -> bool:
    """In a datacenter only a senior engineer puts goods away."""
    return may_receive(user) and (
        not location.is_datacenter or getattr(user, "grade", "") == Grade.SENIOR
    )


def may_move(user: Any) -> bool:
    """Issuing and transferring stock: the stock editors, i.e. those who may
    receive (every engineer). There is no separate permission for it."""
    return may_receive(user)


def may_manage_counts(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm("inventory.add_stockcount"))


def may_work_count(*, count: StockCount, user: Any) -> bool:
    """The assigned controller, or a manager (who may assign counts)."""
    return bool(
        getattr(user, "is_staff", False)
        and (count.controller_id == getattr(user, "pk", None) or may_manage_counts(user))
    )


# --- Products ---------------------------------------------------------------------

PRODUCT_FIELDS = [
    "sku",
    "name",
    "kind",
    "item_kind",
    "unit_price",
    "reorder_level",
    "supplier",
    "active",
]


@transaction.atomic
def product_save(
    *, actor: Any, now: datetime, product: Product | None = None, **fields: Any
) -> Product:
    """Create or change a product; the event carries the old and new value of
    every changed field. A changed reorder level is checked at once."""
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    perm = "inventory.add_product" if product is None else "inventory.change_product"
    if not _is_integration(actor) and not actor.has_perm(perm):
        raise PermissionDenied(_("You cannot edit products."))
    created = product is None
    if product is None:
        product = Product()
    else:
        product = Product.objects.select_for_update().get(pk=product.pk)
    if not created and "sku" in fields and fields["sku"] != product.sku:
        # The article number is the product's public reference (URLs, the API).
        raise ValidationError({"sku": _("The article number of a product cannot change.")})
    changes = fields_apply(product, fields, created=created)
    if not created and not changes:
        return product
    if Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
        raise ValidationError({"sku": _("A product with this article number exists.")})
    product.full_clean(exclude=["reorder_alerted_at"])
    product.save()
    event_record(
        obj=product,
        kind="product.created" if created else "product.changed",
        actor=actor,
        now=now,
        data={"changes": changes},
    )
    if "reorder_level" in changes or "active" in changes:
        _reorder_check(product_id=product.pk, now=now)
        product.refresh_from_db(fields=["reorder_alerted_at"])
    return product


# --- The ledger -------------------------------------------------------------------


def _level_row(product: Product, location: Location) -> StockLevel:
    """The level row, created at 0 the first time. A concurrent first move
    makes one insert fail on the unique constraint; get_or_create then reads
    the winner's row (its savepoint keeps our transaction usable)."""
    level, _created = StockLevel.objects.get_or_create(product=product, location=location)
    return level


def _move(
    *,
    product: Product,
    location: Location,
    quantity: int,
    kind: str,
    actor: Any,
    now: datetime,
    customer: Customer | None = None,
    item: ConfigurationItem | None = None,
    order_line: PurchaseOrderLine | None = None,
    note: str = "",
) -> StockMovement:
    """Change one level and write its ledger row; no reorder check (callers
    that move several levels check once, after all level locks are taken)."""
    if quantity == 0:
        raise ValidationError({"quantity": _("A movement needs a quantity other than 0.")})
    if kind not in MovementKind.values:
        raise ValidationError({"kind": _("Unknown movement kind.")})
    level = _level_row(product, location)
    rows = StockLevel.objects.filter(pk=level.pk)
    if quantity < 0:
        # The condition is re-evaluated on the newest row version after a
        # concurrent update commits (PostgreSQL, READ COMMITTED), so of two
        # issues racing for the last unit exactly one matches.
        rows = rows.filter(quantity__gte=-quantity)
    if not rows.update(quantity=F("quantity") + quantity):
        raise ValidationError(
            {
                "quantity": _("Not enough stock of %(sku)s at %(location)s.")
                % {"sku": product.sku, "location": location.name}
            }
        )
    # Our UPDATE holds the row lock until commit: the balance read now is the
    # one this movement produced, and ledger rows of one level are written in
    # the order of their balances.
    balance = StockLevel.objects.values_list("quantity", flat=True).get(pk=level.pk)
    return StockMovement.objects.create(
        product=product,
        location=location,
        kind=kind,
        quantity=quantity,
        balance_after=balance,
        customer=customer,
        item=item,
        order_line=order_line,
        note=note[:300],
        actor=actor,
        created_at=now,
    )


def stock_total(product: Product) -> int:
    total = StockLevel.objects.filter(product=product).aggregate(total=Sum("quantity"))["total"]
    return int(total or 0)


def below_reorder_level(*, total: int, reorder_level: int) -> bool:
    """A reorder level of 0 means the product is not reordered automatically."""
    return reorder_level > 0 and total <= reorder_level


def _reorder_check(*, product_id: int, now: datetime) -> None:
    """Alert once when the total over all locations falls to the reorder level
    or below, and re-arm when it rises above it again.

    The product row is locked before the total is read: every mover locks it
    after its own level change, so the last of concurrent movers sees every
    other's committed level and leaves the flag right for the final stock."""
    product = Product.objects.select_for_update().get(pk=product_id)
    total = stock_total(product)
    below = product.active and below_reorder_level(total=total, reorder_level=product.reorder_level)
    if below and product.reorder_alerted_at is None:
        if Product.objects.filter(pk=product.pk, reorder_alerted_at__isnull=True).update(
            reorder_alerted_at=now
        ):
            event_record(
                obj=product,
                kind="product.below_reorder_level",
                actor=None,
                now=now,
                data={"total": total, "reorder_level": product.reorder_level},
            )
    elif not below and product.reorder_alerted_at is not None:
        Product.objects.filter(pk=product.pk, reorder_alerted_at__isnull=False).update(
            reorder_alerted_at=None
        )
        event_record(
            obj=product,
            kind="product.reorder_rearmed",
            actor=None,
            now=now,
            data={"total": total, "reorder_level": product.reorder_level},
        )


@transaction.atomic
def stock_move(
    *,
    product: Product,
    location: Location,
    quantity: int,
    kind: str,
    actor: Any,
    now: datetime,
    customer: Customer | None = None,
    item: ConfigurationItem | None = None,
    order_line: PurchaseOrderLine | None = None,
    note: str = "",
) -> StockMovement:
    """Add `quantity` (negative: take) to the product's level at `location`
    and write the ledger row; raises ValidationError ("not enough stock")
    rather than let a level go below zero. Callers check who may move."""
    movement = _move(
        product=product,
        location=location,
        quantity=quantity,
        kind=kind,
        actor=actor,
        now=now,
        customer=customer,
        item=item,
        order_line=order_line,
        note=note,
    )
    _reorder_check(product_id=product.pk, now=now)
    return movement


def _positive(quantity: Any, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationError({field: _("Give a quantity of 1 or more.")})
    return quantity


@transaction.atomic
def stock_issue(
    *,
    product: Product,
    location: Location,
    quantity: int,
    actor: Any,
    now: datetime,
    customer: Customer | None = None,
    item: ConfigurationItem | None = None,
    note: str = "",
) -> StockMovement:
    """Take stock out for a customer or a machine (a disk into a server). A
    product that becomes items is issued one named item at a time, so the
    ledger follows each server."""
    if not may_move(actor):
        raise PermissionDenied(_("You cannot issue stock."))
    _positive(quantity)
    if product.becomes_item:
        if item is None:
            raise ValidationError({"item": _("Name the machine (serial number) that is issued.")})
        if quantity != 1:
            raise ValidationError({"quantity": _("Machines are issued one at a time.")})
        if item.product_id != product.pk:
            raise ValidationError({"item": _("This machine is not a unit of this product.")})
    if item is not None and customer is None:
        customer = item.customer
    if item is not None and customer is not None and item.customer_id not in (None, customer.pk):
        raise ValidationError({"customer": _("The machine belongs to another customer.")})
    movement = stock_move(
        product=product,
        location=location,
        quantity=-quantity,
        kind=MovementKind.ISSUE,
        actor=actor,
        now=now,
        customer=customer,
        item=item,
        note=note,
    )
    event_record(
        obj=product,
        kind="stock.issued",
        actor=actor,
        now=now,
        data={
            "location": location.code,
            "quantity": quantity,
            "customer": customer.number if customer else None,
            "item": item.reference if item else None,
        },
    )
    return movement


@transaction.atomic
def stock_transfer(
    *,
    product: Product,
    source: Location,
    destination: Location,
    quantity: int,
    actor: Any,
    now: datetime,
    note: str = "",
) -> tuple[StockMovement, StockMovement]:
    """Move stock between locations: an out and an in movement in one
    transaction. Putting it away in a datacenter is a senior engineer's job."""
    if not may_move(actor):
        raise PermissionDenied(_("You cannot move stock."))
    _positive(quantity)
    if source.pk == destination.pk:
        raise ValidationError({"destination": _("Choose another location than the source.")})
    if destination.is_datacenter and getattr(actor, "grade", "") != Grade.SENIOR:
        raise ValidationError(
            {"destination": _("Only senior engineers put stock away in a datacenter.")}
        )
    if product.becomes_item:
        # The units are machines with a location of their own; they move with
        # the item (Network), not as anonymous stock.
        raise ValidationError(
            {"product": _("Machines are moved one by one on their own page, not as stock.")}
        )
    # Both level rows locked in pk order: two transfers in opposite
    # directions would otherwise each hold one and wait for the other.
    pks = sorted(_level_row(product, place).pk for place in (source, destination))
    list(StockLevel.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    out = _move(
        product=product,
        location=source,
        quantity=-quantity,
        kind=MovementKind.TRANSFER_OUT,
        actor=actor,
        now=now,
        note=note or _("to %(location)s") % {"location": destination.code},
    )
    into = _move(
        product=product,
        location=destination,
        quantity=quantity,
        kind=MovementKind.TRANSFER_IN,
        actor=actor,
        now=now,
        note=note or _("from %(location)s") % {"location": source.code},
    )
    # The total over all locations did not change: no reorder check.
    event_record(
        obj=product,
        kind="stock.transferred",
        actor=actor,
        now=now,
        data={"from": source.code, "to": destination.code, "quantity": quantity},
    )
    return out, into


# --- Purchase orders --------------------------------------------------------------

OrderLineSpec = tuple[Product, int, Decimal | int | str]


@transaction.atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    destination: Location,
    expected_on: date,
    lines: Sequence[OrderLineSpec],
    actor: User,
    now: datetime,
    customer: Customer | None = None,
    notes: str = "",
) -> PurchaseOrder:
    """Order goods from a supplier for one destination. Numbered PO-000001 by
    its primary key after the insert, so numbers never collide."""
    if not may_order(actor):
        raise PermissionDenied(_("Ordering is for senior engineers and IT managers."))
    errors: dict[str, str] = {}
    if expected_on < timezone.localdate(now):
        errors["expected_on"] = _("The expected date cannot be in the past.")
    if customer is not None and not customer.active:
        errors["customer"] = _("This customer is not active.")
    if not lines:
        errors["lines"] = _("An order needs at least one line.")
    seen: set[int] = set()
    for product, quantity, unit_price in lines:
        if product.pk in seen:
            errors["lines"] = _("Each product once per order: %(sku)s.") % {"sku": product.sku}
        seen.add(product.pk)
        if not product.active:
            errors["lines"] = _("%(sku)s is no longer ordered.") % {"sku": product.sku}
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            errors["lines"] = _("Every line needs a quantity of 1 or more.")
        if Decimal(str(unit_price)) < 0:
            errors["lines"] = _("A price cannot be negative.")
    if errors:
        raise ValidationError(errors)
    order = PurchaseOrder.objects.create(
        supplier=supplier,
        destination=destination,
        customer=customer,
        expected_on=expected_on,
        ordered_by=actor,
        ordered_at=now,
        notes=notes.strip(),
    )
    order.number = f"PO-{order.pk:06d}"
    PurchaseOrder.objects.filter(pk=order.pk).update(number=order.number)
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            order=order,
            product=product,
            quantity=quantity,
            unit_price=Decimal(str(unit_price)),
        )
        for product, quantity, unit_price in lines
    )
    event_record(
        obj=order,
        kind="purchase_order.created",
        actor=actor,
        now=now,
        to_state=OrderStatus.ORDERED,
        data={
            "supplier": supplier.name,
            "destination": destination.code,
            "customer": customer.number if customer else None,
            "lines": [[product.sku, quantity] for product, quantity, _price in lines],
        },
    )
    return order


def _serials(values: Iterable[str]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


def _receive_checks(
    *,
    line: PurchaseOrderLine,
    order: PurchaseOrder,
    quantity: int,
    actor: Any,
    location: Location,
    customer: Customer | None,
    serials: list[str],
) -> None:
    if not may_receive(actor):
        raise PermissionDenied(_("You cannot register receipts."))
    if order.status not in RECEIVABLE:
        raise ValidationError(
            {
                "quantity": _("Order %(number)s is %(status)s.")
                % {"number": order.number, "status": OrderStatus(order.status).label}
            }
        )
    _positive(quantity)
    if quantity > line.outstanding:
        raise ValidationError(
            {
                "quantity": _("Only %(count)d of this line are still to be received.")
                % {"count": line.outstanding}
            }
        )
    if location.is_datacenter:
        if getattr(actor, "grade", "") != Grade.SENIOR:
            raise ValidationError(
                {"location": _("Only senior engineers receive goods in a datacenter.")}
            )
        if customer is None:
            raise ValidationError(
                {"customer": _("Goods received in a datacenter are linked to a customer.")}
            )
    if order.customer_id is not None and customer is not None and customer.pk != order.customer_id:
        raise ValidationError({"customer": _("This order is for another customer.")})
    product = line.product
    if product.becomes_item:
        if len(serials) != quantity:
            raise ValidationError(
                {
                    "serial_numbers": _("Give one serial number per unit: %(count)d.")
                    % {"count": quantity}
                }
            )
        if len(set(serials)) != len(serials):
            raise ValidationError({"serial_numbers": _("A serial number is given twice.")})
        known = list(
            ConfigurationItem.objects.filter(serial_number__in=serials).values_list(
                "serial_number", flat=True
            )
        )
        if known:
            raise ValidationError(
                {
                    "serial_numbers": _("Already registered: %(serials)s.")
                    % {"serials": ", ".join(sorted(s for s in known if s))}
                }
            )
    elif serials:
        raise ValidationError(
            {
                "serial_numbers": _(
                    "%(sku)s does not become machines: leave the serial numbers empty."
                )
                % {"sku": product.sku}
            }
        )


@transaction.atomic
def stock_receive(
    *,
    line: PurchaseOrderLine,
    quantity: int,
    actor: User,
    now: datetime,
    location: Location | None = None,
    customer: Customer | None = None,
    serial_numbers: Sequence[str] = (),
) -> Receipt:
    """Register goods put away by `actor` (the one who puts them away registers
    them). Partial deliveries are normal; more than is outstanding is refused.
    Units of a product that becomes items become configuration items in stock,
    one per serial number."""
    line = PurchaseOrderLine.objects.select_related("order", "product").get(pk=line.pk)
    order = line.order
    location = location or order.destination
    customer = customer or order.customer
    serials = _serials(serial_numbers)
    _receive_checks(
        line=line,
        order=order,
        quantity=quantity,
        actor=actor,
        location=location,
        customer=customer,
        serials=serials,
    )
    # The claim: a concurrent receipt of the same line waits for our row
    # lock and then re-checks the condition against our committed total.
    if not PurchaseOrderLine.objects.filter(
        pk=line.pk, received_quantity__lte=F("quantity") - quantity
    ).update(received_quantity=F("received_quantity") + quantity):
        line.refresh_from_db(fields=["received_quantity"])
        raise ValidationError(
            {
                "quantity": _("Only %(count)d of this line are still to be received.")
                % {"count": line.outstanding}
            }
        )
    receipt = Receipt.objects.create(
        order_line=line,
        quantity=quantity,
        location=location,
        customer=customer,
        received_by=actor,
        received_at=now,
    )
    product = line.product
    if product.becomes_item:
        items = _items_create(
            product=product,
            serials=serials,
            location=location,
            customer=customer,
            actor=actor,
            now=now,
        )
        for item in items:
            _move(
                product=product,
                location=location,
                quantity=1,
                kind=MovementKind.RECEIPT,
                actor=actor,
                now=now,
                customer=customer,
                item=item,
                order_line=line,
                note=order.number or "",
            )
    else:
        _move(
            product=product,
            location=location,
            quantity=quantity,
            kind=MovementKind.RECEIPT,
            actor=actor,
            now=now,
            customer=customer,
            order_line=line,
            note=order.number or "",
        )
    _reorder_check(product_id=product.pk, now=now)
    _order_status_refresh(order_id=order.pk, actor=actor, now=now, receipt=receipt, serials=serials)
    return receipt


def _items_create(
    *,
    product: Product,
    serials: list[str],
    location: Location,
    customer: Customer | None,
    actor: Any,
    now: datetime,
) -> list[ConfigurationItem]:
    from inventory.item_services import item_create

    items = []
    for serial in serials:
        try:
            with transaction.atomic():
                item = item_create(
                    actor=actor,
                    now=now,
                    kind=product.item_kind,
                    serial_number=serial,
                    machine_type=product.name,
                    location=location,
                    customer=customer,
                    status=ItemStatus.IN_STOCK,
                    product=product,
                )
        except IntegrityError:
            # The same serial registered by someone else since our check.
            raise ValidationError(
                {"serial_numbers": _("Already registered: %(serials)s.") % {"serials": serial}}
            ) from None
        except ValidationError as error:
            messages = error.messages
            raise ValidationError(
                {"serial_numbers": [f"{serial}: {message}" for message in messages]}
            ) from None
        items.append(item)
    return items


def _order_status_refresh(
    *, order_id: int, actor: Any, now: datetime, receipt: Receipt, serials: list[str]
) -> None:
    """Partial or received, decided with the order row locked: receipts of
    other lines of the same order that raced ours are committed by the time
    the last one gets the lock, so the last one sees every line."""
    order = PurchaseOrder.objects.select_for_update().get(pk=order_id)
    lines = list(order.lines.values_list("quantity", "received_quantity"))
    complete = all(received >= quantity for quantity, received in lines)
    status = OrderStatus.RECEIVED if complete else OrderStatus.PARTIAL
    from_state = order.status
    if status != from_state:
        order.status = status
        order.received_at = now if complete else None
        order.save(update_fields=["status", "received_at"])
    event_record(
        obj=order,
        kind="purchase_order.received",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=status,
        data={
            "product": receipt.order_line.product.sku,
            "quantity": receipt.quantity,
            "location": receipt.location.code,
            "customer": receipt.customer.number if receipt.customer else None,
            "serial_numbers": serials,
        },
    )


# --- Stock counts -----------------------------------------------------------------


def count_products(location: Location) -> list[Product]:
    """What a count of `location` covers: every active product that has a level
    there, and any product (even one no longer sold) with stock there."""
    return list(
        Product.objects.filter(
            Q(levels__location=location) & (Q(active=True) | Q(levels__quantity__gt=0))
        )
        .distinct()
        .order_by("name")
    )


@transaction.atomic
def stock_count_create(
    *, location: Location, controller: User, due_on: date, actor: Any, now: datetime
) -> StockCount:
    """Assign a count of one location to a controller: a line per product and
    a task in the controller's task box. One open count per location at a
    time, so differences are never booked twice."""
    if actor is not None and not _is_integration(actor) and not may_manage_counts(actor):
        raise PermissionDenied(_("You cannot assign stock counts."))
    if not controller.is_staff or not controller.is_active:
        raise ValidationError({"controller": _("Counts go to active staff members only.")})
    # Locking the location serialises count creation per location (the
    # monthly task may run on two workers at once).
    Location.objects.select_for_update().get(pk=location.pk)
    if StockCount.objects.filter(location=location, status=CountStatus.OPEN).exists():
        raise ValidationError({"location": _("This location has an open count already.")})
    products = count_products(location)
    if not products:
        raise ValidationError({"location": _("Nothing is kept at this location.")})
    count = StockCount.objects.create(
        location=location, controller=controller, due_on=due_on, created_at=now
    )
    StockCountLine.objects.bulk_create(
        StockCountLine(count=count, product=product) for product in products
    )
    count.task = task_create(
        title=_("Count the stock at %(location)s") % {"location": location.name},
        description=_("Count %(count)d products and record what you find; due %(due)s.")
        % {"count": len(products), "due": due_on.isoformat()},
        assignee=controller,
        actor=actor,
        now=now,
        due_date=due_on,
        link=count,
    )
    count.save(update_fields=["task"])
    event_record(
        obj=count,
        kind="stock_count.created",
        actor=actor,
        now=now,
        to_state=CountStatus.OPEN,
        data={"controller": controller.username, "lines": len(products)},
    )
    return count


@transaction.atomic
def stock_count_record(
    *, count: StockCount, counted: dict[int, int | None], actor: Any, now: datetime
) -> StockCount:
    """Store counted quantities, {product pk: counted}; None clears a line.
    Recording again corrects earlier numbers until the count is closed."""
    count = StockCount.objects.select_for_update().get(pk=count.pk)
    if not may_work_count(count=count, user=actor):
        raise PermissionDenied(_("Only the controller or a manager works on this count."))
    if count.status != CountStatus.OPEN:
        raise ValidationError({"counted": _("This count is closed.")})
    lines = {line.product_id: line for line in count.lines.all()}
    unknown = set(counted) - set(lines)
    if unknown:
        raise ValidationError({"counted": _("A product is not part of this count.")})
    changed = {}
    for product_id, value in counted.items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ValidationError({"counted": _("Counted quantities are 0 or more.")})
        line = lines[product_id]
        if line.counted != value:
            changed[product_id] = [line.counted, value]
            line.counted = value
            line.save(update_fields=["counted"])
    if changed:
        event_record(
            obj=count,
            kind="stock_count.recorded",
            actor=actor,
            now=now,
            data={"changes": {str(k): v for k, v in changed.items()}},
        )
    return count


@transaction.atomic
def stock_count_close(*, count: StockCount, actor: Any, now: datetime) -> StockCount:
    """Book every difference between counted and book quantity as a "count"
    movement. The book quantity is read with the level row locked, so a
    receipt or issue during the count is part of it and is not undone."""
    count = (
        StockCount.objects.select_for_update(of=("self",))
        .select_related("location", "task")
        .get(pk=count.pk)
    )
    if not may_work_count(count=count, user=actor):
        raise PermissionDenied(_("Only the controller or a manager closes this count."))
    if count.status != CountStatus.OPEN:
        raise ValidationError({"status": _("This count is closed already.")})
    lines = list(count.lines.select_related("product").order_by("product_id"))
    if any(line.counted is None for line in lines):
        raise ValidationError({"counted": _("Record a count for every product first.")})
    booked = []
    for line in lines:
        level = _level_row(line.product, count.location)
        expected = StockLevel.objects.select_for_update().get(pk=level.pk).quantity
        difference = int(line.counted or 0) - expected
        if difference:
            _move(
                product=line.product,
                location=count.location,
                quantity=difference,
                kind=MovementKind.COUNT,
                actor=actor,
                now=now,
                note=_("stock count %(due)s") % {"due": count.due_on.isoformat()},
            )
            booked.append([line.product.sku, expected, line.counted])
        line.expected, line.difference = expected, difference
        line.save(update_fields=["expected", "difference"])
    for line in lines:
        _reorder_check(product_id=line.product_id, now=now)
    count.status = CountStatus.DONE
    count.closed_at = now
    count.save(update_fields=["status", "closed_at"])
    if count.task is not None and count.task.status == TaskStatus.OPEN:
        task_close(task=count.task, actor=actor, now=now, remark=_("Count closed."))
    event_record(
        obj=count,
        kind="stock_count.closed",
        actor=actor,
        now=now,
        from_state=CountStatus.OPEN,
        to_state=CountStatus.DONE,
        data={"differences": booked},
    )
    return count


def _month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def count_controller(location: Location) -> User | None:
    """Who counts a location: whoever counted it last (an IT manager assigns
    the first count by hand to choose someone), else the first IT manager."""
    last = (
        StockCount.objects.filter(location=location)
        .select_related("controller")
        .order_by("-due_on", "-id")
        .first()
    )
    if last is not None and last.controller.is_active and last.controller.is_staff:
        return last.controller
    return users_in_role(Role.IT_MANAGER).first()


def stock_counts_schedule(*, now: datetime) -> list[StockCount]:
    """Every location that keeps stock is counted once a month: a count due at
    the end of the month, unless one is due this month already or an older
    count is still open. There is no unique constraint for "one per location
    per month"; the location row lock below is the claim: a second worker
    waits for it and then sees the first one's committed count."""
    first, last = _month_bounds(timezone.localdate(now))
    created = []
    for location in Location.objects.order_by("pk"):
        try:
            with transaction.atomic():
                Location.objects.select_for_update().get(pk=location.pk)
                if StockCount.objects.filter(
                    Q(location=location)
                    & (Q(due_on__gte=first, due_on__lte=last) | Q(status=CountStatus.OPEN))
                ).exists():
                    continue
                if not count_products(location):
                    continue
                controller = count_controller(location)
                if controller is None:
                    logger.error("no controller for the stock count of %s", location.code)
                    continue
                created.append(
                    stock_count_create(
                        location=location, controller=controller, due_on=last, actor=None, now=now
                    )
                )
        except ValidationError:
            logger.exception("no stock count for %s", location.code)
    return created
