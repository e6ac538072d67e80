"""Thin Celery wrappers: read one uploaded document, embed one document; in every tenant, take
up what waits."""

from celery import shared_task
from django_tenants.utils import schema_context

from apps.core.selectors import tenant_schema_names
from apps.core.tenant_tasks import enqueue_for_tenant, tenant_task
from apps.knowledge.models import Document
from apps.knowledge.services import (
    EmbeddingError,
    document_embed,
    document_index,
    documents_waiting_for_embedding,
    documents_waiting_for_reading,
    starter_packs_load,
)


# No retry: a file that cannot be read fails the same way again, and the service records why.
# The read runs in a child process within its own budget (apps.knowledge.reading), so the task
# needs no Celery time limit; a worker lost mid-read gives the message back (acks_late).
@tenant_task(acks_late=True, ignore_result=True)
def document_index_task(document_id: int) -> None:
    document_index(document_id=document_id)


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
    """Beat entry point, tenant by tenant: documents whose embedding gave up (model down for
    long) get another go, and uploads whose reading was never done (a broker outage, a worker
    lost) are queued again."""
    for schema_name in tenant_schema_names():
        with schema_context(schema_name):
            to_embed = list(documents_waiting_for_embedding().values_list("pk", flat=True))
            to_read = list(documents_waiting_for_reading().values_list("pk", flat=True))
        for task, document_ids in ((document_embed_task, to_embed), (document_index_task, to_read)):
            for document_id in document_ids:
                enqueue_for_tenant(
                    task, schema_name=schema_name, kwargs={"document_id": document_id}
                )
