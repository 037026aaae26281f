"""Explicit input and output shapes of the stock API: products and purchase
orders, addressed by article number (sku) and order number."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from accounts.models import Customer, User
from inventory.models import (
    ItemKind,
    Location,
    Product,
    ProductKind,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
)
from inventory.stock_services import below_reorder_level


class StockLevelSerializer(serializers.ModelSerializer):
    location: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = StockLevel
        fields = ["location", "quantity"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    supplier: serializers.Field = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True
    )
    item_kind = serializers.ChoiceField(choices=ItemKind.choices, read_only=True, allow_blank=True)
    total = serializers.IntegerField(read_only=True, help_text="in stock over all locations")
    levels = StockLevelSerializer(many=True, read_only=True)
    below_reorder_level = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "kind",
            "item_kind",
            "unit_price",
            "reorder_level",
            "supplier",
            "active",
            "total",
            "below_reorder_level",
            "levels",
        ]
        read_only_fields = fields

    def get_below_reorder_level(self, product: Product) -> bool:
        total = getattr(product, "total", 0) or 0
        return product.active and below_reorder_level(
            total=total, reorder_level=product.reorder_level
        )


class ProductCreateSerializer(serializers.Serializer):
    sku = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ProductKind.choices)
    item_kind = serializers.ChoiceField(
        choices=ItemKind.choices, required=False, allow_blank=True, default=""
    )
    unit_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, default=Decimal(0)
    )
    reorder_level = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    supplier = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Supplier.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="supplier name",
    )
    active = serializers.BooleanField(default=True)


class OrderLineSerializer(serializers.ModelSerializer):
    product: serializers.Field = serializers.SlugRelatedField(slug_field="sku", read_only=True)
    outstanding = serializers.IntegerField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = ["product", "quantity", "received_quantity", "outstanding", "unit_price"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier: serializers.Field = serializers.SlugRelatedField(slug_field="name", read_only=True)
    destination: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer: serializers.Field = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    ordered_by: serializers.Field = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "number",
            "status",
            "supplier",
            "destination",
            "customer",
            "expected_on",
            "ordered_by",
            "ordered_at",
            "received_at",
            "notes",
            "lines",
        ]
        read_only_fields = fields


class OrderLineCreateSerializer(serializers.Serializer):
    product = serializers.SlugRelatedField(
        slug_field="sku", queryset=Product.objects.all(), help_text="article number"
    )
    quantity = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    unit_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="empty: the product's price",
    )


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.SlugRelatedField(
        slug_field="name", queryset=Supplier.objects.all(), help_text="supplier name"
    )
    destination = serializers.SlugRelatedField(
        slug_field="code", queryset=Location.objects.all(), help_text="location code"
    )
    customer = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Customer.objects.filter(active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="customer number",
    )
    expected_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    lines = OrderLineCreateSerializer(many=True, allow_empty=False)
    ordered_by = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_staff=True, is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="the ordering engineer; required for integration clients, "
        "a person's session always orders as that person",
    )

    def service_lines(self) -> list[tuple[Product, int, Any]]:
        return [
            (
                line["product"],
                line["quantity"],
                line["product"].unit_price if line["unit_price"] is None else line["unit_price"],
            )
            for line in self.validated_data["lines"]
        ]
