from django.contrib import admin

from events.models import Event, Notification


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "object_ref", "kind", "from_state", "to_state", "actor_label")
    list_filter = ("kind",)
    search_fields = ("object_ref", "actor_label", "reason")
    date_hierarchy = "created_at"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "template", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("recipient",)
    readonly_fields = [f.name for f in Notification._meta.fields]
