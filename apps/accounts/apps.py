from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from apps.accounts.receivers import roles_ensure_after_migrate

        post_migrate.connect(roles_ensure_after_migrate, dispatch_uid="accounts-roles-ensure")
