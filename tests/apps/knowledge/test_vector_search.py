"""The vector leg: per-query hnsw.ef_search, and filters that do not starve the results."""

import random

from django.db import connection
from django_tenants.utils import schema_context

from apps.knowledge.models import Chunk, Document
from apps.knowledge.selectors import knowledge_vector_candidates
from tests.factories import DocumentFactory


def _unit(vector):
    norm = sum(x * x for x in vector) ** 0.5
    return [x / norm for x in vector]


def test_hidden_chunks_crowding_the_query_do_not_starve_the_live_results(tenant_a, settings):
    """A big document's new version (300 chunks, not live until all are embedded) sits right
    around the query; the 5 live chunks are further away. An HNSW scan limited to ef_search
    candidates would find only hidden chunks and return nothing; the iterative scan goes on
    until it has the live ones."""
    settings.KNOWLEDGE_HNSW_EF_SEARCH = 10
    rng = random.Random(7)
    dim = settings.EMBEDDING_DIMENSIONS
    query = _unit([1.0] + [0.0] * (dim - 1))
    with schema_context(tenant_a.schema_name):
        document = DocumentFactory(status=Document.Status.EMBEDDING)

        def chunk(position, *, live, spread):
            return Chunk(
                kind=Chunk.Kind.DOCUMENT,
                document=document,
                is_live=live,
                position=position,
                text=f"chunk {position}",
                embedding=_unit([1.0] + [rng.gauss(0, spread) for _ in range(dim - 1)]),
            )

        Chunk.objects.bulk_create(
            [chunk(n, live=False, spread=0.01) for n in range(300)]
            + [chunk(n, live=True, spread=0.2) for n in range(5)]
        )
        with connection.cursor() as cursor:
            # So small a table would be scanned exactly; make the planner use the HNSW index,
            # as it does on a real knowledge base (until this test's transaction ends).
            cursor.execute("SET LOCAL enable_seqscan = off")

        found = knowledge_vector_candidates(query, limit=5)

        assert len(found) == 5
        assert Chunk.objects.filter(pk__in=[pk for pk, _ in found], is_live=True).count() == 5
        similarities = [similarity for _, similarity in found]
        assert similarities == sorted(similarities, reverse=True)
