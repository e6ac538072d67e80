"""Signal receivers of the accounts app."""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.accounts.services import roles_ensure


def roles_ensure_after_migrate(sender, using="default", **kwargs) -> None:
    """Roles follow the permissions of each tenant schema after every migrate. Django sends
    post_migrate once per app, and creates each app's permissions in its own call: the roles
    are ensured at the last app's, when every permission exists. Not in the public schema:
    the company's people are in its own."""
    last_app = [config for config in apps.get_app_configs() if config.models_module][-1]
    if sender is not last_app or connection.schema_name == get_public_schema_name():
        return
    roles_ensure()
