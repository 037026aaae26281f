from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from changes.models import Advice, CabMeeting, Change, FreezeWindow


@admin.register(FreezeWindow)
class FreezeWindowAdmin(admin.ModelAdmin):
    """The change manager's freeze (blackout) windows."""

    list_display = ("reason", "starts_at", "ends_at", "applies_to_all")
    filter_horizontal = ("customers",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CabMeeting)
class CabMeetingAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "agenda_sent_at", "held_at")


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """Read-only: changes move only through the services (pages, API)."""

    list_display = ("number", "subject", "classification", "status", "created_at")
    list_filter = ("classification", "status", "emergency")
    search_fields = ("number", "subject")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.register(Advice)
