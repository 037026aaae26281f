from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Network")

    def ready(self) -> None:
        from inventory import (  # noqa: F401  (notifiers and checks)
            checks,
            delivery_notifications,
            item_notifications,
            stock_notifications,
            update_notifications,
        )
