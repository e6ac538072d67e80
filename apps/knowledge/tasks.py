"""Thin Celery wrappers: embed one document; embed what waits, in every tenant."""

from celery import shared_task
from django_tenants.utils import schema_context

from apps.core.selectors import tenant_schema_names
from apps.core.tenant_tasks import enqueue_for_tenant, tenant_task
from apps.knowledge.models import Document
from apps.knowledge.services import (
    EmbeddingError,
    document_embed,
    documents_waiting_for_embedding,
    starter_packs_load,
)


@tenant_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(EmbeddingError,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
)
def document_embed_task(self, document_id: int) -> None:
    document = Document.objects.filter(pk=document_id).first()
    if document is not None:
        document_embed(document)


@tenant_task(ignore_result=True)
def starter_packs_load_task() -> None:
    starter_packs_load()


@shared_task(ignore_result=True)
def documents_embed_waiting_all_tenants() -> None:
    """Beat entry point: documents whose embedding gave up (model down for long) get
    another go, tenant by tenant."""
    for schema_name in tenant_schema_names():
        with schema_context(schema_name):
            waiting = list(documents_waiting_for_embedding().values_list("pk", flat=True))
        for document_id in waiting:
            enqueue_for_tenant(
                document_embed_task,
                schema_name=schema_name,
                kwargs={"document_id": document_id},
            )
