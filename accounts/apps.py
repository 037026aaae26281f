from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Customers and people")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import audit, schema  # noqa: F401  (schema registers the token scheme)
        from accounts.roles import sync_roles_after_migrate

        # Roles are data: after every migrate the groups get exactly the
        # permissions ROLE_PERMISSIONS names, including those later apps add.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
        # The security audit trail: logins, logouts, permission changes.
        audit.connect()
