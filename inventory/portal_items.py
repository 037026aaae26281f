"""Portal pages (items): a customer's own machines with status, OS,
addresses and software. No secrets, no internal notes and no history (it
would carry the notes); another company's machine answers 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from inventory.item_selectors import item_get, items_visible_to, with_details
from inventory.models import ItemStatus
from servicedesk.lib.access import customer_required


@customer_required
def machines(request: HttpRequest) -> HttpResponse:
    """The company's machines that are not decommissioned (items_visible_to
    scopes them to the user's own company)."""
    items = (
        with_details(items_visible_to(request.user))
        .exclude(status=ItemStatus.DECOMMISSIONED)
        .order_by("hostname", "serial_number", "id")
    )
    return render(request, "portal/machines.html", {"machines": items})


@customer_required
def machine_detail(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    context = {
        "machine": item,
        "ip_addresses": item.ip_addresses.order_by("address"),
        "software": item.software.order_by("name"),
    }
    return render(request, "portal/machine_detail.html", context)


urlpatterns = [
    path("machines/", machines, name="machines"),
    path("machines/<str:reference>/", machine_detail, name="machine-detail"),
]
