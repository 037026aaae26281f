"""Reads of configuration items that depend on who asks: staff (and
integration clients) see every item, a customer user only their company's,
anyone else none. A foreign or unknown item answers 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from inventory.item_services import hostname_normalise
from inventory.models import ConfigurationItem, InstalledSoftware, IpAddress, Secret


def items_visible_to(user: Any) -> QuerySet[ConfigurationItem]:
    qs = ConfigurationItem.objects.select_related("customer", "location", "product")
    if getattr(user, "customer_id", None):
        return qs.filter(customer_id=user.customer_id)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def item_get(*, user: Any, reference: str) -> ConfigurationItem:
    """By hostname (case-insensitive, as hostnames are stored lower case), or
    by serial number for an item whose hostname is unknown."""
    qs = items_visible_to(user)
    item = None
    hostname = hostname_normalise(reference)
    if hostname:
        item = qs.filter(hostname=hostname).first()
    if item is None and reference.strip():
        item = qs.filter(serial_number=reference.strip()).first()
    if item is None:
        raise Http404("No such configuration item")
    return item


def with_details(qs: QuerySet[ConfigurationItem]) -> QuerySet[ConfigurationItem]:
    """Addresses and software of every item in two queries in all, whatever
    the number of items (lists, the API, the CSV export)."""
    return qs.prefetch_related(
        Prefetch("ip_addresses", queryset=IpAddress.objects.order_by("address")),
        Prefetch("software", queryset=InstalledSoftware.objects.order_by("name")),
    )


def items_filter(
    qs: QuerySet[ConfigurationItem],
    *,
    search: str = "",
    kind: str = "",
    status: str = "",
    customer: str = "",
    location: str = "",
) -> QuerySet[ConfigurationItem]:
    """The item list's filters. `search` matches part of the hostname, serial
    number, machine type or one of the IP addresses; `customer` is a customer
    number, `location` a location code."""
    search = search.strip()
    if search:
        addresses = IpAddress.objects.filter(item=OuterRef("pk"), address__icontains=search)
        qs = qs.filter(
            Q(hostname__icontains=search)
            | Q(serial_number__icontains=search)
            | Q(machine_type__icontains=search)
            | Q(Exists(addresses))
        )
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if customer.strip():
        qs = qs.filter(customer__number=customer.strip())
    if location:
        qs = qs.filter(location__code=location)
    return qs


def item_secrets(item: ConfigurationItem) -> QuerySet[Secret]:
    """The item's secrets for listing their labels: the ciphertext column is
    not even read."""
    return item.secrets.defer("ciphertext").select_related("created_by").order_by("label")


def secret_get(*, user: Any, item: ConfigurationItem, public_id: Any) -> Secret:
    if not getattr(user, "is_staff", False):
        raise Http404("No such secret")
    secret = Secret.objects.filter(item=item, public_id=public_id).select_related("item").first()
    if secret is None:
        raise Http404("No such secret")
    return secret
