"""Thin Celery wrappers over tool services, always inside one tenant."""

from celery import shared_task

from apps.core.selectors import tenant_schema_names
from apps.core.tenant_tasks import enqueue_for_tenant, tenant_task
from apps.tools.services import incident_retry, incidents_retry


@tenant_task(ignore_result=True)
def incidents_retry_task() -> dict[str, int]:
    return incidents_retry()


@tenant_task
def incident_retry_task(incident_id: int) -> bool:
    return incident_retry(incident_id)


@shared_task(ignore_result=True)
def incidents_retry_all_tenants() -> None:
    """Beat entry point: one retry sweep per tenant that has incidents waiting."""
    for schema_name in tenant_schema_names():
        enqueue_for_tenant(incidents_retry_task, schema_name=schema_name)
