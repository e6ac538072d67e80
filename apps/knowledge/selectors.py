"""Hybrid retrieval over the current tenant's knowledge: vector similarity (pgvector HNSW,
cosine) fused with PostgreSQL full-text search by reciprocal rank fusion, so both paraphrases
and exact strings (error messages, command names) are found."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, F, Q, QuerySet
from pgvector.django import CosineDistance

from apps.agents.models import Agent
from apps.knowledge.models import Chunk, Document

RRF_K = 60  # the usual constant of reciprocal rank fusion: dampens the top ranks' weight
CANDIDATES_PER_METHOD = 40
WORD_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
MAX_QUERY_WORDS = 32


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


def _scope(agent: Agent | None) -> QuerySet[Chunk]:
    chunks = Chunk.objects.filter(is_live=True)
    if agent is not None:
        chunks = chunks.filter(Q(agent__isnull=True) | Q(agent=agent))
    return chunks


def knowledge_vector_candidates(
    query_embedding: list[float], *, agent: Agent | None = None, limit: int = CANDIDATES_PER_METHOD
) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity), best first, from the HNSW index."""
    rows = (
        _scope(agent)
        .filter(embedding__isnull=False)
        .annotate(distance=CosineDistance("embedding", query_embedding))
        .order_by("distance")
        .values_list("pk", "distance")[:limit]
    )
    return [(pk, 1.0 - float(distance)) for pk, distance in rows]


def any_word_query(query: str) -> SearchQuery | None:
    """A full-text query matching chunks that hold ANY of the words of ``query``.

    People ask in sentences ("payments-api is stuck in ImagePullBackOff, how do I roll
    back?"): requiring every word would match nothing, so words are OR-ed and the rank
    rewards chunks that hold more of them. Each word is quoted, so no input can inject
    tsquery operators.
    """
    words = list(dict.fromkeys(WORD_RE.findall(query.lower())))[:MAX_QUERY_WORDS]
    if not words:
        return None
    return SearchQuery(
        " | ".join(f"'{word}'" for word in words), search_type="raw", config="english"
    )


def knowledge_text_candidates(
    query: str, *, agent: Agent | None = None, limit: int = CANDIDATES_PER_METHOD
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank), best first, holding words of ``query``."""
    search = any_word_query(query)
    if search is None:
        return []
    rows = (
        _scope(agent)
        .filter(search_vector=search)
        .annotate(rank=SearchRank(F("search_vector"), search))
        .order_by("-rank", "pk")
        .values_list("pk", "rank")[:limit]
    )
    return [(pk, float(rank)) for pk, rank in rows]


def knowledge_search(
    query: str,
    *,
    query_embedding: list[float] | None = None,
    agent: Agent | None = None,
    limit: int = 5,
) -> list[KnowledgeHit]:
    """The ``limit`` best chunks for ``query`` in this tenant (and agent, when given)."""
    vector = knowledge_vector_candidates(query_embedding, agent=agent) if query_embedding else []
    text = knowledge_text_candidates(query, agent=agent) if query.strip() else []
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


def knowledge_relevant(query: str, *, agent: Agent | None, llm) -> list[KnowledgeHit]:
    """What the knowledge base holds that is relevant to ``query``, best first.

    A word match always counts; a meaning-only match counts from KNOWLEDGE_MIN_SIMILARITY
    up. If the query cannot be embedded (model down), words alone are used, so an answer
    is still grounded where it can be.
    """
    from django.conf import settings

    from apps.integrations.bases.llm import LLMError

    try:
        query_embedding = llm.embed([query])[0]
    except LLMError:
        query_embedding = None
    hits = knowledge_search(
        query, query_embedding=query_embedding, agent=agent, limit=settings.KNOWLEDGE_TOP_K
    )
    return [
        hit
        for hit in hits
        if hit.text_rank is not None
        or (hit.similarity is not None and hit.similarity >= settings.KNOWLEDGE_MIN_SIMILARITY)
    ]
