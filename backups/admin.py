from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from backups.models import (
    BackupCheck,
    BackupJob,
    BackupProblem,
    BackupRun,
    ResponsibilityGroup,
    RestoreTest,
)


@admin.register(ResponsibilityGroup)
class ResponsibilityGroupAdmin(admin.ModelAdmin):
    """Who checks which backups; edited here by managers."""

    list_display = ("name", "code", "responsible", "fallback", "email")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only: these rows change only through the services (pages, API,
    tasks), which write the audit trail."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BackupJob)
class BackupJobAdmin(ReadOnlyAdmin):
    list_display = ("reference", "customer", "hostname", "kind", "group", "active")
    list_filter = ("group", "kind", "os_family", "active")
    search_fields = ("reference", "hostname", "customer__number")


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "started_at", "status", "source", "received_at")
    list_filter = ("status", "source")
    list_select_related = ("job",)


@admin.register(BackupCheck)
class BackupCheckAdmin(ReadOnlyAdmin):
    list_display = ("day", "group", "created_at", "completed_at")
    list_select_related = ("group",)


@admin.register(BackupProblem)
class BackupProblemAdmin(ReadOnlyAdmin):
    list_display = ("number", "job", "severity", "status", "assignee", "created_at")
    list_filter = ("severity", "status")
    list_select_related = ("job", "assignee")


@admin.register(RestoreTest)
class RestoreTestAdmin(ReadOnlyAdmin):
    list_display = ("job", "performed_on", "result", "performed_by")
    list_select_related = ("job", "performed_by")
