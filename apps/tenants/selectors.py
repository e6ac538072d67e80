from __future__ import annotations

from apps.tenants.models import Tenant


def tenant_get_by_schema(*, schema_name: str) -> Tenant | None:
    return Tenant.objects.filter(schema_name=schema_name).first()
