"""API of Network stock (API.md, "Network"): products and purchase orders.
Stock is the company's own: customer users get 403."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import F, Prefetch, QuerySet
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import OrderStatus, Product, PurchaseOrder, StockLevel
from inventory.stock_selectors import (
    order_get,
    orders_with_lines,
    product_get,
    products_visible_to,
)
from inventory.stock_serializers import (
    ProductCreateSerializer,
    ProductSerializer,
    PurchaseOrderCreateSerializer,
    PurchaseOrderSerializer,
)
from inventory.stock_services import may_order, product_save, purchase_order_create
from servicedesk.api import idempotent

STOCK_SCOPES = {"GET": "inventory:read", "POST": "inventory:write"}


def _with_levels(products: QuerySet[Product]) -> QuerySet[Product]:
    levels = StockLevel.objects.select_related("location").order_by("location__code")
    return products.prefetch_related(Prefetch("levels", queryset=levels))


class ProductFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter()
    active = django_filters.BooleanFilter()
    supplier = django_filters.CharFilter(field_name="supplier__name")
    below_reorder_level = django_filters.BooleanFilter(method="filter_below")

    class Meta:
        model = Product
        fields = ["kind", "active", "supplier"]

    def filter_below(
        self, queryset: QuerySet[Product], name: str, value: bool
    ) -> QuerySet[Product]:
        below = queryset.filter(active=True, reorder_level__gt=0, total__lte=F("reorder_level"))  # type: ignore[misc]
        return below if value else queryset.exclude(pk__in=below.values("pk"))


class ProductListView(generics.ListCreateAPIView):
    serializer_class = ProductSerializer
    scopes = STOCK_SCOPES
    staff_perms = {"GET": "inventory.view_product", "POST": "inventory.add_product"}
    filterset_class = ProductFilter
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name", "total"]
    ordering = ["sku"]
    cursor_ordering = ("sku",)

    def get_queryset(self) -> QuerySet[Product]:
        return _with_levels(products_visible_to(self.request.user))

    @extend_schema(request=ProductCreateSerializer, responses={201: ProductSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = ProductCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        product = product_save(actor=request.user, now=timezone.now(), **body.validated_data)
        product = _with_levels(products_visible_to(request.user)).get(pk=product.pk)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailView(APIView):
    scopes = {"GET": "inventory:read"}
    staff_perms = {"GET": "inventory.view_product"}

    @extend_schema(responses=ProductSerializer)
    def get(self, request: Request, sku: str) -> Response:
        product = product_get(user=request.user, sku=sku)
        product = _with_levels(products_visible_to(request.user)).get(pk=product.pk)
        return Response(ProductSerializer(product).data)


class PurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    supplier = django_filters.CharFilter(field_name="supplier__name")
    destination = django_filters.CharFilter(field_name="destination__code")
    customer = django_filters.CharFilter(field_name="customer__number")
    expected_after = django_filters.DateFilter(field_name="expected_on", lookup_expr="gte")
    expected_before = django_filters.DateFilter(field_name="expected_on", lookup_expr="lte")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "destination", "customer"]


def _ordering_person(request: Request, body: PurchaseOrderCreateSerializer) -> Any:
    """A person orders as themselves; an integration client names the
    engineer it orders for, who must be allowed to order."""
    named = body.validated_data.get("ordered_by")
    if not getattr(request.user, "is_integration", False):
        if named is not None and named.pk != request.user.pk:
            raise ValidationError({"ordered_by": ["You can only order as yourself."]})
        return request.user
    if named is None:
        raise ValidationError({"ordered_by": ["Name the engineer who orders."]})
    if not may_order(named):
        raise ValidationError({"ordered_by": ["Ordering is for senior engineers and IT managers."]})
    return named


class PurchaseOrderListView(generics.ListCreateAPIView):
    serializer_class = PurchaseOrderSerializer
    scopes = STOCK_SCOPES
    staff_perms = {"GET": "inventory.view_purchaseorder", "POST": "inventory.add_purchaseorder"}
    filterset_class = PurchaseOrderFilter
    search_fields = ["number", "notes"]
    ordering_fields = ["expected_on", "ordered_at"]
    ordering = ["-ordered_at", "-id"]
    cursor_ordering = ("-ordered_at", "-id")

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return orders_with_lines(self.request.user)

    @extend_schema(request=PurchaseOrderCreateSerializer, responses={201: PurchaseOrderSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = PurchaseOrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order = purchase_order_create(
            supplier=data["supplier"],
            destination=data["destination"],
            customer=data["customer"],
            expected_on=data["expected_on"],
            notes=data["notes"],
            lines=body.service_lines(),
            actor=_ordering_person(request, body),
            now=timezone.now(),
        )
        order = orders_with_lines(request.user).get(pk=order.pk)
        return Response(PurchaseOrderSerializer(order).data, status=status.HTTP_201_CREATED)


class PurchaseOrderDetailView(APIView):
    scopes = {"GET": "inventory:read"}
    staff_perms = {"GET": "inventory.view_purchaseorder"}

    @extend_schema(responses=PurchaseOrderSerializer)
    def get(self, request: Request, number: str) -> Response:
        order = order_get(user=request.user, number=number)
        order = orders_with_lines(request.user).get(pk=order.pk)
        return Response(PurchaseOrderSerializer(order).data)


urlpatterns = [
    path("products/", ProductListView.as_view(), name="product-list"),
    path("products/<slug:sku>/", ProductDetailView.as_view(), name="product-detail"),
    path("purchase-orders/", PurchaseOrderListView.as_view(), name="purchase-order-list"),
    path(
        "purchase-orders/<str:number>/",
        PurchaseOrderDetailView.as_view(),
        name="purchase-order-detail",
    ),
]
