"""Read-only checks of the services Jamono depends on."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model

HEALTH_TIMEOUT_S = 2


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "unavailable"
    return "ok"


def _broker_client() -> redis.Redis:
    """A short-lived client that gives up after ``HEALTH_TIMEOUT_S`` (use it with ``with``)."""
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=HEALTH_TIMEOUT_S,
        socket_timeout=HEALTH_TIMEOUT_S,
    )


def broker_status() -> str:
    try:
        with _broker_client() as client:
            client.ping()
    except Exception:
        return "unavailable"
    return "ok"


# Tenants, read through the model django-tenants is configured with: apps below
# ``apps.tenants`` (conversations, knowledge) fan out per tenant without importing it.


def tenant_schema_names() -> list[str]:
    """Every customer tenant's schema, sorted (``public`` is infrastructure, not a tenant)."""
    return list(
        get_tenant_model()
        .objects.exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def tenant_schema_exists(schema_name: str) -> bool:
    if not schema_name or schema_name == get_public_schema_name():
        return False
    return get_tenant_model().objects.filter(schema_name=schema_name).exists()
