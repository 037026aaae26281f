"""Admin of Network. Configuration items are read-only here (they change
through item_services, which write the history) and show no secrets.
Secrets are deliberately not registered: the admin would list ciphertexts
and could change them without an audit event."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from inventory.models import ConfigurationItem, Location, Product, SoftwareRelease, Supplier


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "serial_number", "kind", "customer", "location", "status")
    list_filter = ("kind", "status", "location")
    list_select_related = ("customer", "location")
    search_fields = ("hostname", "serial_number", "machine_type", "customer__number")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_datacenter")


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "email")
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "kind", "item_kind", "reorder_level", "supplier", "active")
    list_filter = ("kind", "active")
    list_select_related = ("supplier",)
    search_fields = ("sku", "name")
    exclude = ("reorder_alerted_at",)


@admin.register(SoftwareRelease)
class SoftwareReleaseAdmin(ReadOnlyAdmin):
    """Read-only: registering a release goes through the update pages, which
    also refresh the "behind" flag of every installed copy."""

    list_display = ("name", "version", "published_on", "registered_at", "source")
    search_fields = ("name",)
