"""The staff navigation. An entry shows only when its page exists (later
capabilities add theirs by URL name) and the user may open it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

NAVIGATION = [
    ("queue", _("Queue"), "tickets.view_ticket"),
    ("task-list", _("My tasks"), "tickets.view_task"),
    ("call-cards", _("Calls"), "tickets.view_ticket"),
    ("kb", _("Knowledge base"), "tickets.view_ticket"),
    ("problems", _("Problems"), "tickets.view_ticket"),
    ("change-list", _("Changes"), "changes.view_change"),
    ("cab", _("CAB"), "changes.view_cabmeeting"),
    ("change-schedule", _("Schedule"), "changes.view_change"),
    ("backup-checks", _("Backups"), "backups.view_backupcheck"),
    ("network", _("Network"), "inventory.view_configurationitem"),
    ("inventory-stock", _("Stock"), "inventory.view_stocklevel"),
    ("inventory-updates", _("Updates"), "inventory.view_machineupdate"),
    ("inventory-deliveries", _("Deliveries"), "inventory.view_delivery"),
    ("reports", _("Reports"), "reports.view_report"),
    ("customer-list", _("Customers"), "accounts.view_customer"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_staff", False):
        return {"navigation": []}
    items: list[dict[str, Any]] = []
    for name, label, perm in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        if user.has_perm(perm):
            items.append({"url": url, "label": label, "active": False})
    # The entry whose URL is the longest prefix of the path is the current one
    # (/network/stock/ is "Stock", not "Network").
    matching = [item for item in items if request.path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {"navigation": items}
