"""Mails caused by stock events: the reorder alert, to the senior engineers
(who order) and the IT managers, once per shortage."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from accounts.models import Grade
from accounts.roles import Role
from accounts.selectors import staff_users
from events.models import Event
from events.notify import Mail, mails_to, notifier
from inventory.models import Product


def reorder_recipients() -> list:
    return list(
        staff_users().filter(Q(grade=Grade.SENIOR) | Q(groups__name=Role.IT_MANAGER)).distinct()
    )


@notifier("product.below_reorder_level")
def below_reorder_level(event: Event) -> list[Mail]:
    product = Product.objects.select_related("supplier").get(pk=event.object_id)
    data = event.data or {}
    context = {
        "sku": product.sku,
        "name": product.name,
        "total": data.get("total", 0),
        "reorder_level": data.get("reorder_level", product.reorder_level),
        "supplier": product.supplier.name if product.supplier else "",
        "url": settings.SITE_URL + reverse("inventory-product", args=[product.sku]),
    }
    return mails_to(reorder_recipients(), "stock-reorder", context)
