from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from servicedesk.lib.tasks import enqueue_on_commit
from tickets.models import (
    BusinessCalendar,
    CauseCode,
    Department,
    InboundMail,
    PriorityMatrix,
    SlaContract,
    SlaTarget,
    Task,
    Ticket,
)


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaContract)
class SlaContractAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [SlaTargetInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Edited targets move the due times of the contract's open tickets."""
        super().save_related(request, form, formsets, change)
        from tickets.tasks import recompute_contract

        enqueue_on_commit(recompute_contract, form.instance.pk)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "always_open", "opens_at", "closes_at", "dutch_holidays")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        from tickets.tasks import recompute_contract

        for contract_id in set(
            SlaTarget.objects.filter(calendar=obj).values_list("contract_id", flat=True)
        ):
            enqueue_on_commit(recompute_contract, contract_id)


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)


@admin.register(CauseCode)
class CauseCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "active")
    list_filter = ("active",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only: tickets change only through the services (pages, API)."""

    list_display = ("number", "customer", "subject", "priority", "status", "created_at")
    list_filter = ("status", "priority", "type")
    search_fields = ("number", "subject")
    raw_id_fields = ("customer", "assignee", "requester")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "assignee", "status", "due_date", "created_at")
    list_filter = ("status",)
    search_fields = ("title",)
    raw_id_fields = ("assignee", "creator", "parent")
    readonly_fields = ("created_at", "updated_at", "closed_at")


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    """Every mail read; quarantined ones keep their raw bytes for a look."""

    list_display = ("received_at", "sender", "subject", "status", "ticket")
    list_filter = ("status",)
    search_fields = ("sender", "subject", "message_id")
    readonly_fields = (
        "message_id",
        "received_at",
        "sender",
        "subject",
        "status",
        "reason",
        "ticket",
    )
    exclude = ("raw",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
