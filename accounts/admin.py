from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Absence, ApiToken, Customer, OnCallShift, User
from accounts.services import api_token_revoke


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "grade", "customer", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "grade", "groups")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Servicedesk"), {"fields": ("grade", "customer", "phone", "language")}),
    )
    autocomplete_fields = ("customer",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "is_managed", "sla_contract", "active")
    list_filter = ("is_managed", "active", "sla_contract")
    search_fields = ("number", "name", "email", "admin_arge_id")


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ("user", "starts_on", "ends_on", "substitute", "reason")
    list_filter = ("user",)
    date_hierarchy = "starts_on"


@admin.register(OnCallShift)
class OnCallShiftAdmin(admin.ModelAdmin):
    list_display = ("user", "starts_at", "ends_at")
    date_hierarchy = "starts_at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with `manage.py create_api_token` (which shows the key
    once); here they are listed and revoked, never shown."""

    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "scopes", "created_by", "created_at", "last_used_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        for token in queryset:
            api_token_revoke(token=token, now=now, actor=request.user)
        messages.success(request, _("Revoked."))
