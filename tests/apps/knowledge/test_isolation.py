"""The same query in tenant B never returns tenant A's knowledge."""

from django.db import connection
from django_tenants.utils import schema_context

from apps.integrations.bases.llm import llm_provider_get
from apps.knowledge.models import Document
from apps.knowledge.selectors import knowledge_search
from apps.knowledge.services import document_embed, document_ingest

SECRET_RUNBOOK = b"# Acme secret runbook\n\nThe vault unseal key shards live with ZEBRA-7731.\n"


def _ingest_into(tenant):
    with schema_context(tenant.schema_name):
        document_ingest(key="secret.md", name="secret.md", data=SECRET_RUNBOOK, source="upload")
        document_embed(Document.objects.get(key="secret.md"))


def test_tenant_b_never_gets_tenant_a_chunks_by_words_or_by_vector(
    tenant_a, tenant_b, ollama_double
):
    _ingest_into(tenant_a)
    query_vector = llm_provider_get().embed(["ZEBRA-7731 vault unseal"])[0]

    with schema_context(tenant_b.schema_name):
        hits = knowledge_search("ZEBRA-7731", query_embedding=query_vector, limit=50)
    with schema_context(tenant_a.schema_name):
        own = knowledge_search("ZEBRA-7731", query_embedding=query_vector)

    assert all("ZEBRA-7731" not in hit.text for hit in hits)
    assert "ZEBRA-7731" in own[0].text


def test_raw_sql_on_tenant_b_search_path_sees_no_tenant_a_chunk(tenant_a, tenant_b, ollama_double):
    _ingest_into(tenant_a)

    connection.set_tenant(tenant_b)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM knowledge_chunk WHERE search_vector @@ "
            "websearch_to_tsquery('english', 'ZEBRA-7731')"
        )
        assert cursor.fetchone()[0] == 0
    connection.set_tenant(tenant_a)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM knowledge_chunk WHERE search_vector @@ "
            "websearch_to_tsquery('english', 'ZEBRA-7731')"
        )
        assert cursor.fetchone()[0] == 1
