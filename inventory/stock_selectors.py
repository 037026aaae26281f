"""Reads of Network stock. Stock is the company's own: staff (and integration
clients) see it, customer users see none of it (404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from inventory.models import (
    Location,
    OrderStatus,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMovement,
)

OPEN_ORDER = (OrderStatus.ORDERED, OrderStatus.PARTIAL)
MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)


def _staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) and not getattr(user, "customer_id", None)


# --- Products and levels -----------------------------------------------------------


def products_visible_to(user: Any) -> QuerySet[Product]:
    """Products with their total over all locations and its value."""
    if not _staff(user):
        return Product.objects.none()
    return Product.objects.select_related("supplier").annotate(
        total=Coalesce(Sum("levels__quantity"), Value(0), output_field=IntegerField()),
    )


def product_get(*, user: Any, sku: str) -> Product:
    product = products_visible_to(user).filter(sku=sku).first()
    if product is None:
        raise Http404("No such product")
    return product


def products_below_reorder_level(user: Any) -> QuerySet[Product]:
    """Active products whose total is at or below their reorder level (a level
    of 0 means: not reordered automatically)."""
    products = products_visible_to(user).filter(active=True, reorder_level__gt=0)
    # `total` is the annotation of products_visible_to.
    return products.filter(total__lte=F("reorder_level")).order_by("name")  # type: ignore[misc]


def product_levels(product: Product) -> QuerySet[StockLevel]:
    return product.levels.select_related("location").order_by("location__name")


def product_ledger(product: Product, location: Location | None = None) -> QuerySet[StockMovement]:
    """The movements of a product, newest first (index movement_ledger_idx)."""
    movements = product.movements.select_related(
        "location", "customer", "item", "order_line__order", "actor"
    ).order_by("-created_at", "-id")
    if location is not None:
        movements = movements.filter(location=location)
    return movements


@dataclass
class LocationStock:
    location: Location
    levels: list[StockLevel] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return sum((level.value for level in self.levels), Decimal(0))  # type: ignore[attr-defined]

    @property
    def units(self) -> int:
        return sum(level.quantity for level in self.levels)


def stock_overview(user: Any, location: Location | None = None) -> list[LocationStock]:
    """Per location the levels of its products with their value (quantity times
    unit price), in one query. Levels at 0 of products no longer sold are left
    out."""
    if not _staff(user):
        return []
    levels = (
        StockLevel.objects.select_related("product", "location")
        .filter(Q(quantity__gt=0) | Q(product__active=True))
        .annotate(value=ExpressionWrapper(F("quantity") * F("product__unit_price"), MONEY))
        .order_by("location__name", "product__name")
    )
    if location is not None:
        levels = levels.filter(location=location)
    places: dict[int, LocationStock] = {}
    if location is not None:
        places[location.pk] = LocationStock(location)
    for level in levels:
        places.setdefault(level.location_id, LocationStock(level.location)).levels.append(level)
    return list(places.values())


# --- Purchase orders -------------------------------------------------------------


def orders_visible_to(user: Any) -> QuerySet[PurchaseOrder]:
    if not _staff(user):
        return PurchaseOrder.objects.none()
    return PurchaseOrder.objects.select_related(
        "supplier", "destination", "customer", "ordered_by"
    ).annotate(
        line_count=Count("lines"),
        ordered_units=Coalesce(Sum("lines__quantity"), Value(0), output_field=IntegerField()),
        received_units=Coalesce(
            Sum("lines__received_quantity"), Value(0), output_field=IntegerField()
        ),
    )


def open_orders(user: Any) -> QuerySet[PurchaseOrder]:
    """Orders still to be received, the first expected first (po_open_idx)."""
    return orders_visible_to(user).filter(status__in=OPEN_ORDER).order_by("expected_on", "id")


def order_lines(order: PurchaseOrder) -> QuerySet[PurchaseOrderLine]:
    receipts = Receipt.objects.select_related("location", "customer", "received_by").order_by(
        "received_at", "id"
    )
    return (
        order.lines.select_related("product")
        .prefetch_related(Prefetch("receipts", queryset=receipts))
        .annotate(
            line_value=ExpressionWrapper(F("quantity") * F("unit_price"), MONEY),
        )
        .order_by("id")
    )


def order_get(*, user: Any, number: str) -> PurchaseOrder:
    order = orders_visible_to(user).filter(number=number).first()
    if order is None:
        raise Http404("No such purchase order")
    return order


def order_line_get(*, user: Any, number: str, pk: int) -> PurchaseOrderLine:
    order = order_get(user=user, number=number)
    line = order.lines.select_related("product").filter(pk=pk).first()
    if line is None:
        raise Http404("No such order line")
    line.order = order
    return line


def orders_with_lines(user: Any) -> QuerySet[PurchaseOrder]:
    """For the API: orders with their lines prefetched."""
    lines = PurchaseOrderLine.objects.select_related("product").order_by("id")
    return orders_visible_to(user).prefetch_related(Prefetch("lines", queryset=lines))


# --- Counts -----------------------------------------------------------------------


def counts_visible_to(user: Any) -> QuerySet[StockCount]:
    if not _staff(user):
        return StockCount.objects.none()
    return StockCount.objects.select_related("location", "controller", "task").annotate(
        line_count=Count("lines"),
        counted_count=Count("lines", filter=Q(lines__counted__isnull=False)),
    )


def count_get(*, user: Any, pk: int) -> StockCount:
    count = counts_visible_to(user).filter(pk=pk).first()
    if count is None:
        raise Http404("No such stock count")
    return count


def count_lines(count: StockCount) -> list[StockCountLine]:
    """The lines with the current book quantity at the count's location (the
    expected quantity while the count is open), in two queries."""
    lines = list(count.lines.select_related("product").order_by("product__name"))
    books = dict(
        StockLevel.objects.filter(
            location_id=count.location_id, product_id__in=[line.product_id for line in lines]
        ).values_list("product_id", "quantity")
    )
    for line in lines:
        line.book = books.get(line.product_id, 0)  # type: ignore[attr-defined]
    return lines
