from __future__ import annotations

from django.db.models import QuerySet

from apps.tenants.models import Tenant


def tenant_get_by_schema(*, schema_name: str) -> Tenant | None:
    return Tenant.objects.filter(schema_name=schema_name).first()


def tenant_list() -> QuerySet[Tenant]:
    """Every customer tenant (the public schema is infrastructure, not a tenant)."""
    return Tenant.objects.exclude(schema_name="public").order_by("schema_name")
