from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reports.models import KpiTarget, MonthlySnapshot


class _ReadOnly(admin.ModelAdmin):
    """Targets change on the targets page (through the service, which writes
    the event); snapshots never change at all."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(KpiTarget)
class KpiTargetAdmin(_ReadOnly):
    list_display = ("kpi", "target", "higher_is_better", "updated_at", "updated_by")
    search_fields = ("kpi",)


@admin.register(MonthlySnapshot)
class MonthlySnapshotAdmin(_ReadOnly):
    list_display = ("month", "created_at")
    date_hierarchy = "month"
