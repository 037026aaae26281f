from django.contrib import admin

from tickets.models import SlaContract, Task


@admin.register(SlaContract)
class SlaContractAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "assignee", "status", "due_date", "created_at")
    list_filter = ("status",)
    search_fields = ("title",)
    raw_id_fields = ("assignee", "creator", "parent")
    readonly_fields = ("created_at", "updated_at", "closed_at")
