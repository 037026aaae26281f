from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets and tasks")

    def ready(self) -> None:
        from tickets import channel_notifications, notifications  # noqa: F401  (notifiers)
