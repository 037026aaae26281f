"""API of Network machines (API.md, "Network"): list and register machines,
read and change one by hostname (or serial number while it has none).
Customers read their own company's machines; another company's answers 404.
Stored secrets are never part of any answer."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.item_selectors import item_get, items_filter, items_visible_to, with_details
from inventory.item_serializers import MachineSerializer, MachineWriteSerializer
from inventory.item_services import (
    ip_addresses_set,
    item_create,
    item_update,
    software_replace,
)
from inventory.models import ConfigurationItem, ItemKind, ItemStatus
from servicedesk.api import idempotent

MACHINE_SCOPES = {"GET": "inventory:read", "POST": "inventory:write", "PATCH": "inventory:write"}
LISTS = ("ip_addresses", "software")


class MachineFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__number", help_text="customer number")
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ItemKind.choices)
    location = django_filters.CharFilter(field_name="location__code", help_text="location code")
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="part of the hostname, serial number, machine type or an IP address",
    )

    class Meta:
        model = ConfigurationItem
        fields = ["customer", "status", "kind", "location"]

    def filter_search(
        self, queryset: QuerySet[ConfigurationItem], name: str, value: str
    ) -> QuerySet[ConfigurationItem]:
        return items_filter(queryset, search=value)


def _context(request: Request) -> dict[str, Any]:
    return {"request": request, "for_customer": bool(getattr(request.user, "customer_id", None))}


def _lists_apply(item: ConfigurationItem, data: dict[str, Any], actor: Any, now: Any) -> None:
    if "ip_addresses" in data:
        ip_addresses_set(item=item, addresses=data["ip_addresses"], actor=actor, now=now)
    if "software" in data:
        entries = [(entry["name"], entry["version"]) for entry in data["software"]]
        software_replace(item=item, entries=entries, actor=actor, now=now)


class MachineListView(generics.ListCreateAPIView):
    serializer_class = MachineSerializer
    scopes = MACHINE_SCOPES
    staff_perms = {
        "GET": "inventory.view_configurationitem",
        "POST": "inventory.add_configurationitem",
    }
    customer_methods = {"GET"}
    filterset_class = MachineFilter
    # ?search= is the MachineFilter's (it also matches IP addresses).
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["hostname", "serial_number", "status", "created_at", "updated_at"]
    ordering = ["hostname", "serial_number", "id"]
    cursor_ordering = ("-created_at", "-id")

    def get_queryset(self) -> QuerySet[ConfigurationItem]:
        return with_details(items_visible_to(self.request.user))

    def get_serializer_context(self) -> dict[str, Any]:
        return _context(self.request)

    @extend_schema(request=MachineWriteSerializer, responses={201: MachineSerializer})
    @idempotent
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        body = MachineWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lists = {name: data.pop(name) for name in LISTS if name in data}
        now = timezone.now()
        with transaction.atomic():
            item = item_create(actor=request.user, now=now, **data)
            _lists_apply(item, lists, request.user, now)
        item = with_details(items_visible_to(request.user)).get(pk=item.pk)
        return Response(
            MachineSerializer(item, context=_context(request)).data,
            status=status.HTTP_201_CREATED,
        )


class MachineDetailView(APIView):
    scopes = MACHINE_SCOPES
    staff_perms = {
        "GET": "inventory.view_configurationitem",
        "PATCH": "inventory.change_configurationitem",
    }
    customer_methods = {"GET"}

    def _get(self, request: Request, reference: str) -> ConfigurationItem:
        item = item_get(user=request.user, reference=reference)
        return with_details(items_visible_to(request.user)).get(pk=item.pk)

    @extend_schema(responses=MachineSerializer)
    def get(self, request: Request, reference: str) -> Response:
        item = self._get(request, reference)
        return Response(MachineSerializer(item, context=_context(request)).data)

    @extend_schema(request=MachineWriteSerializer, responses=MachineSerializer)
    def patch(self, request: Request, reference: str) -> Response:
        """Change the fields given (each change is on the machine's history);
        `status` moves along the allowed transitions; `ip_addresses` and
        `software` replace the machine's lists."""
        item = item_get(user=request.user, reference=reference)
        body = MachineWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lists = {name: data.pop(name) for name in LISTS if name in data}
        now = timezone.now()
        with transaction.atomic():
            item = item_update(item=item, actor=request.user, now=now, **data)
            _lists_apply(item, lists, request.user, now)
        item = with_details(items_visible_to(request.user)).get(pk=item.pk)
        return Response(MachineSerializer(item, context=_context(request)).data)


urlpatterns = [
    path("machines/", MachineListView.as_view(), name="machine-list"),
    path("machines/<str:reference>/", MachineDetailView.as_view(), name="machine-detail"),
]
