"""Reads of the tenant's Jira connection (current schema)."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.integrations.jira.models import JiraConnection


def jira_connection_get() -> JiraConnection | None:
    """The current tenant's connection; None when it has none (or outside any tenant: the
    public schema has no such table)."""
    if connection.schema_name == get_public_schema_name():
        return None
    return JiraConnection.objects.first()


def jira_connected() -> bool:
    if connection.schema_name == get_public_schema_name():
        return False
    return JiraConnection.objects.exists()
