"""Roles are groups with permissions: data, not code branches.

ROLE_PERMISSIONS is the single table of what each role may do; `roles_sync`
makes the groups match it. Later capabilities add their permissions here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role:
    ENGINEER = "engineer"
    HEAD_OF_DEPARTMENT = "head_of_department"
    CHANGE_MANAGER = "change_manager"
    CAB_MEMBER = "cab_member"
    IT_MANAGER = "it_manager"
    SALES = "sales"
    VIEWER = "viewer"


ROLE_LABELS = {
    Role.ENGINEER: _("Engineer"),
    Role.HEAD_OF_DEPARTMENT: _("Head of department"),
    Role.CHANGE_MANAGER: _("Change manager"),
    Role.CAB_MEMBER: _("CAB member"),
    Role.IT_MANAGER: _("IT manager"),
    Role.SALES: _("Sales"),
    Role.VIEWER: _("Viewer"),
}

_READ_BASE = [
    "accounts.view_customer",
    "accounts.view_absence",
    "accounts.view_oncallshift",
    "tickets.view_slacontract",
    "tickets.view_task",
    "tickets.view_ticket",
    "changes.view_change",
    "backups.view_backupjob",
    "backups.view_backupcheck",
    "backups.view_backupproblem",
    "backups.view_restoretest",
    "inventory.view_location",
    "inventory.view_configurationitem",
    "inventory.view_product",
    "inventory.view_stocklevel",
    "inventory.view_stockmovement",
    "inventory.view_purchaseorder",
    "inventory.view_stockcount",
    "inventory.view_machineupdate",
    "inventory.view_delivery",
]
_ENGINEER = [
    *_READ_BASE,
    "tickets.add_task",
    "tickets.add_ticket",
    "tickets.change_ticket",
    "changes.add_change",
    "changes.change_change",
    # Engineers edit backup configuration and handle any group's check (a
    # colleague covers); reassigning problems is for heads and managers.
    "backups.add_backupjob",
    "backups.change_backupjob",
    "backups.change_backupcheck",
    "backups.add_restoretest",
    # Network editors. Rules that depend on the grade (ordering stock, receiving
    # in a datacenter: senior engineers) are checked in the services.
    "inventory.add_configurationitem",
    "inventory.change_configurationitem",
    "inventory.reveal_secret",
    "inventory.add_purchaseorder",
    "inventory.add_receipt",
    "inventory.change_stockcount",
    "inventory.add_machineupdate",
    "inventory.change_machineupdate",
    "inventory.change_delivery",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ENGINEER: _ENGINEER,
    Role.HEAD_OF_DEPARTMENT: [
        *_ENGINEER,
        "tickets.change_task",
        "tickets.decide_escalation",
        "backups.change_backupproblem",
        "reports.view_report",
        "accounts.add_absence",
        "accounts.change_absence",
        "accounts.add_oncallshift",
        "accounts.change_oncallshift",
    ],
    Role.CHANGE_MANAGER: [
        *_ENGINEER,
        "tickets.change_task",
        "changes.decide_change",
        "reports.view_report",
        "changes.advise_change",
        "changes.view_cabmeeting",
        "changes.change_cabmeeting",
        "changes.view_freezewindow",
        "changes.add_freezewindow",
        "changes.change_freezewindow",
        "changes.delete_freezewindow",
    ],
    Role.CAB_MEMBER: [
        *_READ_BASE,
        "changes.view_change",
        "changes.advise_change",
        "changes.view_cabmeeting",
    ],
    Role.IT_MANAGER: [
        *_ENGINEER,
        "tickets.change_task",
        "tickets.approve_extension",
        "backups.change_backupproblem",
        "inventory.add_product",
        "inventory.change_product",
        "inventory.add_stockcount",
        "inventory.change_purchaseorder",
        "inventory.add_delivery",
        "reports.view_report",
        "reports.change_kpitarget",
        "accounts.change_customer",
        "accounts.add_absence",
        "accounts.change_absence",
        "accounts.add_oncallshift",
        "accounts.change_oncallshift",
    ],
    Role.SALES: [
        "accounts.view_customer",
        "tickets.view_task",
        "tickets.view_ticket",
        "inventory.view_configurationitem",
        "inventory.view_delivery",
        "inventory.add_delivery",
    ],
    Role.VIEWER: [*_READ_BASE],
}


def roles_sync() -> None:
    """Create the role groups and give each exactly the permissions in the table.
    Permissions of apps not installed yet are skipped and picked up next time."""
    from accounts.audit import audit_suppressed

    # The table is code, reviewed as code: its sync is not audited (changes
    # made to a role by hand, in the admin, are).
    with audit_suppressed():
        for role, names in ROLE_PERMISSIONS.items():
            group, _created = Group.objects.get_or_create(name=role)
            wanted = Q(pk__in=[])
            for name in names:
                app_label, codename = name.split(".", 1)
                wanted |= Q(content_type__app_label=app_label, codename=codename)
            group.permissions.set(Permission.objects.filter(wanted))


def sync_roles_after_migrate(**kwargs: Any) -> None:
    roles_sync()
