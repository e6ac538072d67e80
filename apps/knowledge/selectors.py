"""Hybrid retrieval over the current tenant's knowledge: vector similarity (pgvector HNSW,
cosine) fused with PostgreSQL full-text search by reciprocal rank fusion, so both paraphrases
and exact strings (error messages, command names) are found."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from pgvector.django import CosineDistance

from apps.agents.models import Agent
from apps.knowledge.models import Chunk, Document, DocumentFile

RRF_K = 60  # the usual constant of reciprocal rank fusion: dampens the top ranks' weight
CANDIDATES_PER_METHOD = 40
WORD_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
MAX_QUERY_WORDS = 32
# Expected chunks the full-text leg ranks (each one is a heap row read and a ts_rank), and a
# hard ceiling for when the statistics are off.
TEXT_MATCH_BUDGET = 5_000
TEXT_MATCH_CEILING = 20_000


@dataclass(frozen=True)
class KnowledgeHit:
    chunk_id: int
    kind: str
    document_id: int | None
    document_title: str
    document_key: str
    heading_path: tuple[str, ...]
    text: str
    similarity: float | None  # cosine similarity of the vector match, None if text-only
    text_rank: float | None  # ts_rank of the full-text match, None if vector-only
    score: float  # fused score (higher is better)


def document_list() -> QuerySet[Document]:
    """This tenant's documents with ``chunk_count``: live chunks only, the ones search sees
    (a new version's chunks stay hidden until all of them are embedded)."""
    # Explicit order: Meta.ordering is dropped from the GROUP BY query that counting makes.
    return (
        Document.objects.select_related("agent")
        .annotate(chunk_count=Count("chunks", filter=Q(chunks__is_live=True)))
        .order_by("key")
    )


# Statuses a worker still moves on by itself: the page keeps refreshing these rows.
DOCUMENT_IN_PROGRESS = (
    Document.Status.QUEUED,
    Document.Status.PARSING,
    Document.Status.EMBEDDING,
)


def document_rows() -> QuerySet[Document]:
    """``document_list`` with ``has_file``: whether a stored file can be read again."""
    return document_list().annotate(
        has_file=Exists(DocumentFile.objects.filter(document=OuterRef("pk")))
    )


@dataclass(frozen=True)
class EmbeddingProgress:
    done: int
    total: int


def document_embedding_progress(document: Document) -> EmbeddingProgress | None:
    """While the document waits for its embeddings: how many chunks of the version being
    embedded have one (a new version's hidden chunks, or a first version's live ones)."""
    if document.status != Document.Status.EMBEDDING:
        return None
    version = document.chunks.filter(is_live=False)
    if not version.exists():
        version = document.chunks.filter(is_live=True)
    counts = version.aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(embedding__isnull=False))
    )
    return EmbeddingProgress(done=counts["done"], total=counts["total"])


@dataclass(frozen=True)
class Asker:
    """Who asks, and where: memories said in a DM or a private channel serve only there."""

    channel_id: str
    user_id: str


def _scope(agent: Agent | None, asker: Asker | None = None) -> QuerySet[Chunk]:
    """Live chunks of ``agent`` (all agents: None) that ``asker`` may see. Without an asker
    (staff searching the knowledge base), no DM or private-channel memory."""
    chunks = Chunk.objects.filter(is_live=True)
    if agent is not None:
        chunks = chunks.filter(Q(agent__isnull=True) | Q(agent=agent))
    visible = Q(audience=Chunk.Audience.TENANT)
    if asker is not None:
        visible |= Q(audience=Chunk.Audience.CHANNEL, audience_id=asker.channel_id)
        visible |= Q(audience=Chunk.Audience.PERSON, audience_id=asker.user_id)
    return chunks.filter(visible)


def knowledge_vector_candidates(
    query_embedding: list[float],
    *,
    agent: Agent | None = None,
    asker: Asker | None = None,
    limit: int = CANDIDATES_PER_METHOD,
) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity), best first, from the HNSW index.

    ``hnsw.ef_search`` (``KNOWLEDGE_HNSW_EF_SEARCH``) for this query only; iterative scans
    keep the index going when the agent and liveness filters drop candidates, so a filtered
    search still returns ``limit`` chunks when there are that many.
    """
    # pgvector accepts 1-1000; fewer candidates than ``limit`` could never fill it.
    ef_search = min(1000, max(1, limit, settings.KNOWLEDGE_HNSW_EF_SEARCH))
    chunks = (
        _scope(agent, asker)
        .filter(embedding__isnull=False)
        .annotate(distance=CosineDistance("embedding", query_embedding))
        .order_by("distance")
        .values_list("pk", "distance")[:limit]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), "
            "set_config('hnsw.iterative_scan', 'strict_order', true)",
            [str(ef_search)],
        )
        rows = list(chunks)
    return [(pk, 1.0 - float(distance)) for pk, distance in rows]


def query_words(query: str) -> list[str]:
    """The searchable words of ``query``, lowercased, deduplicated, in order (at most 32)."""
    return list(dict.fromkeys(WORD_RE.findall(query.lower())))[:MAX_QUERY_WORDS]


# The planner's own statistics (pg_stats, refreshed by autovacuum's ANALYZE) on how often each
# frequent lexeme occurs in this schema's chunks, with the table's row estimate. A word outside
# the most-common list is taken at half its least frequent entry, as the planner does.
_LEXEME_FREQUENCY_SQL = """
WITH stats AS (
    SELECT unnest(most_common_elems::text::text[]) AS lexeme,
           unnest(most_common_elem_freqs) AS freq
    FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = %s AND attname = 'search_vector'
)
SELECT words.lexeme,
       coalesce(stats.freq, (SELECT min(freq) / 2 FROM stats WHERE lexeme IS NOT NULL), 0),
       (SELECT reltuples FROM pg_class WHERE oid = %s::regclass)
FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS words(lexeme)
LEFT JOIN stats ON stats.lexeme = words.lexeme
"""


def query_word_weights(query: str) -> dict[str, float]:
    """How telling each searchable word (lexeme) of ``query`` is: BM25's inverse document
    frequency, from the planner's statistics on this schema's chunks. A word in every other
    chunk ("logs", "pods") weighs little; a word in a few ("ImagePullBackOff") a lot."""
    words = query_words(query)
    if not words:
        return {}
    table = Chunk._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(_LEXEME_FREQUENCY_SQL, [table, table, " ".join(words)])
        rows = cursor.fetchall()
    weights = {}
    for lexeme, frequency, table_rows in rows:
        total = max(float(table_rows or 0), 1.0)
        matching = min(max(float(frequency or 0) * total, 0.0), total)
        weights[lexeme] = math.log(1.0 + (total - matching + 0.5) / (matching + 0.5))
    return weights


def chunk_words(chunk_ids: list[int]) -> dict[int, set[str]]:
    """The searchable words (lexemes) of each chunk."""
    if not chunk_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, tsvector_to_array(search_vector) FROM {Chunk._meta.db_table} "  # noqa: S608
            "WHERE id = ANY(%s)",
            [list(chunk_ids)],
        )
        return {pk: set(lexemes or ()) for pk, lexemes in cursor.fetchall()}


def selective_word_query(query: str, *, budget: int = TEXT_MATCH_BUDGET) -> SearchQuery | None:
    """A full-text query matching chunks that hold ANY of the telling words of ``query``.

    People ask in sentences ("payments-api is stuck in ImagePullBackOff, how do I roll
    back?"): requiring every word would match nothing, so words are OR-ed and the rank
    rewards chunks that hold more of them. But a word in half of a 1M-chunk collection
    ("kubectl") would make this leg rank half the table and says little about which chunk
    answers, while "ImagePullBackOff" says a lot and is what this leg exists for. So words go
    in rarest first while the expected number of matching chunks stays within ``budget``; the
    rarest is always kept, and on a small knowledge base (or before PostgreSQL has statistics)
    every word is. Words reach PostgreSQL as a bound parameter and come back as lexemes of
    ``[a-z0-9_.-]``, so no input can inject tsquery operators.
    """
    words = query_words(query)
    if not words:
        return None
    table = Chunk._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(_LEXEME_FREQUENCY_SQL, [table, table, " ".join(words)])
        rows = cursor.fetchall()
    if not rows:
        return None  # only stop words
    table_rows = rows[0][2] or 0
    kept, expected = [], 0.0
    for lexeme, frequency, _ in sorted(rows, key=lambda row: (row[1], row[0])):
        if kept and table_rows > 0 and expected + frequency * table_rows > budget:
            break
        kept.append(lexeme)
        expected += frequency * max(table_rows, 0)
    # Lexemes are already stemmed by the 'english' configuration: 'simple' keeps them as is.
    return SearchQuery(
        " | ".join(f"'{lexeme}'" for lexeme in kept), search_type="raw", config="simple"
    )


def knowledge_text_candidates(
    query: str,
    *,
    agent: Agent | None = None,
    asker: Asker | None = None,
    limit: int = CANDIDATES_PER_METHOD,
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank), best first, holding the telling words of ``query``."""
    search = selective_word_query(query)
    if search is None:
        return []
    # Ranked in the same scan that finds them, under a ceiling for when the statistics are
    # off (they are estimates); the ORM cannot select from a subquery, so it is wrapped here.
    matching = (
        _scope(agent, asker)
        .filter(search_vector=search)
        .annotate(rank=SearchRank(F("search_vector"), search))
        .order_by()
        .values_list("pk", "rank")[:TEXT_MATCH_CEILING]
    )
    sql, params = matching.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({sql}) AS matching ORDER BY 2 DESC, 1 LIMIT %s",  # noqa: S608
            [*params, limit],
        )
        return [(pk, float(rank)) for pk, rank in cursor.fetchall()]


def knowledge_search(
    query: str,
    *,
    query_embedding: list[float] | None = None,
    agent: Agent | None = None,
    asker: Asker | None = None,
    limit: int = 5,
) -> list[KnowledgeHit]:
    """The ``limit`` best chunks for ``query`` in this tenant (and agent, when given) that
    ``asker`` may see."""
    vector = (
        knowledge_vector_candidates(query_embedding, agent=agent, asker=asker)
        if query_embedding
        else []
    )
    text = knowledge_text_candidates(query, agent=agent, asker=asker) if query.strip() else []
    scores: dict[int, float] = {}
    for ranked in (vector, text):
        for rank, (pk, _) in enumerate(ranked, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]
    similarity, text_rank = dict(vector), dict(text)
    chunks = Chunk.objects.select_related("document").in_bulk(best)
    return [
        KnowledgeHit(
            chunk_id=pk,
            kind=chunks[pk].kind,
            document_id=chunks[pk].document_id,
            document_title=chunks[pk].document.title if chunks[pk].document else "",
            document_key=chunks[pk].document.key if chunks[pk].document else "",
            heading_path=tuple(chunks[pk].heading_path),
            text=chunks[pk].text,
            similarity=similarity.get(pk),
            text_rank=text_rank.get(pk),
            score=scores[pk],
        )
        for pk in best
        if pk in chunks
    ]
