"""The full-text leg of hybrid search keeps the telling words of a question and bounds the
rows it ranks, using PostgreSQL's own statistics of this tenant's chunks."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.knowledge.models import Chunk, Document
from apps.knowledge.selectors import knowledge_text_candidates, selective_word_query
from tests.factories import DocumentFactory

CHUNKS = 3000


def _lexemes(search) -> set[str]:
    config, raw = search.get_source_expressions()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT querytree(to_tsquery(%s::regconfig, %s))", [config.config.value, raw.value]
        )
        tree = cursor.fetchone()[0]
    return {part.strip(" '") for part in tree.split("|")}


@pytest.fixture
def runbooks(tenant_a):
    """3,000 chunks that all say "kubectl", a third say "rollout", one says "ImagePullBackOff";
    analysed, so pg_stats knows how common each word is."""
    with schema_context(tenant_a.schema_name):
        document = DocumentFactory()
        Chunk.objects.bulk_create(
            Chunk(
                kind=Chunk.Kind.DOCUMENT,
                document=document,
                is_live=True,
                position=n,
                text=(
                    f"kubectl describe pod web-{n}"
                    + (" rollout status" if n % 3 == 0 else "")
                    + (" shows ImagePullBackOff" if n == 1234 else "")
                ),
            )
            for n in range(CHUNKS)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_chunk")
        yield tenant_a


def test_a_word_in_every_chunk_is_left_out_when_rarer_ones_are_there(runbooks):
    with schema_context(runbooks.schema_name):
        search = selective_word_query("kubectl rollout ImagePullBackOff", budget=500)

        assert _lexemes(search) == {"imagepullbackoff"}


def test_words_go_in_rarest_first_while_the_expected_matches_fit_the_budget(runbooks):
    with schema_context(runbooks.schema_name):
        search = selective_word_query("kubectl rollout ImagePullBackOff", budget=2000)

        assert _lexemes(search) == {"imagepullbackoff", "rollout"}


def test_only_common_words_still_searches_with_the_rarest(runbooks):
    with schema_context(runbooks.schema_name):
        search = selective_word_query("kubectl rollout", budget=10)

        assert _lexemes(search) == {"rollout"}


def test_a_small_knowledge_base_keeps_every_word(runbooks):
    with schema_context(runbooks.schema_name):
        search = selective_word_query("kubectl rollout ImagePullBackOff")  # default budget

        assert _lexemes(search) == {"kubectl", "rollout", "imagepullbackoff"}


def test_stop_words_only_is_no_query(runbooks):
    with schema_context(runbooks.schema_name):
        assert selective_word_query("how do I") is None
        assert selective_word_query("?!") is None


def test_the_chunk_with_the_exact_error_string_ranks_first(runbooks):
    with schema_context(runbooks.schema_name):
        hits = knowledge_text_candidates("why does kubectl show ImagePullBackOff on rollout?")

        assert Chunk.objects.get(pk=hits[0][0]).position == 1234
        assert len(hits) == 40


def test_operators_in_the_question_are_just_words(runbooks):
    with schema_context(runbooks.schema_name):
        hits = knowledge_text_candidates("ImagePullBackOff' | !kubectl & (:*")

        assert Chunk.objects.get(pk=hits[0][0]).position == 1234


def test_word_statistics_come_from_the_tenants_own_schema(runbooks, tenant_b):
    with schema_context(tenant_b.schema_name):
        Document.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_chunk")

        # Tenant A's statistics would drop "kubectl" under this budget; B's table is empty.
        search = selective_word_query("kubectl rollout ImagePullBackOff", budget=10)

        assert _lexemes(search) == {"kubectl", "rollout", "imagepullbackoff"}
        assert knowledge_text_candidates("kubectl ImagePullBackOff") == []
