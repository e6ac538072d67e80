"""What the model reads about a question: whole documents (or the matched part of a long one
with its neighbouring sections), not loose chunks, each one numbered source.

Retrieval finds chunks; a reader needs the document: the question usually describes symptoms,
so the "Symptoms" chunk matches, while the fix is in the next section. So matched chunks are
grouped by document; a short document goes in whole, a long one as its matched chunks with
their neighbours (same section first) up to a budget. Only documents that clear the relevance
bar are kept, at most KNOWLEDGE_MAX_SOURCES of them, and at most KNOWLEDGE_MAX_MEMORY_SOURCES
earlier answers, so memory never crowds out documents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from pgvector.django import CosineDistance

from apps.agents.models import Agent
from apps.integrations.bases.llm import LLMError
from apps.knowledge.chunking import HEADING_PATH_SEPARATOR
from apps.knowledge.models import Chunk
from apps.knowledge.selectors import (
    Asker,
    KnowledgeHit,
    chunk_words,
    knowledge_search,
    query_word_weights,
)


@dataclass(frozen=True)
class ContextSource:
    """One numbered source of the prompt: a document (whole, or its relevant part) or an
    earlier answer."""

    kind: str  # Chunk.Kind
    title: str  # the document's title ("" for a memory)
    section: str  # the best-matching section's heading path, "A › B"
    text: str  # what the model reads
    score: float  # its best chunk's relevance: similarity + share of the question's words
    chunk_ids: tuple[int, ...]  # the chunks in ``text``
    document_id: int | None = None
    document_key: str = ""
    memory_channel: str = ""  # for a memory: where it was said, and when
    memory_date: datetime | None = None

    @property
    def label(self) -> str:
        if self.kind == Chunk.Kind.MEMORY:
            return self.section or "conversation memory"
        if self.section and self.section != self.title:
            return f"{self.title}{HEADING_PATH_SEPARATOR}{self.section}"
        return self.title or self.section


def knowledge_context(
    query: str, *, agent: Agent | None, llm, asker: Asker | None = None
) -> list[ContextSource]:
    """The sources for ``query``, best first; none when nothing clears the bar.

    Candidates come from the hybrid search; each is then scored on one scale: its cosine
    similarity to the question plus the share of the question's telling words it holds
    (BM25's idf weights, so sharing "logs" counts for little and "ImagePullBackOff" for a
    lot). A document scores as its best chunk. Kept: documents scoring at least
    KNOWLEDGE_MIN_SCORE and KNOWLEDGE_RELATIVE_CUTOFF of the best one, at most
    KNOWLEDGE_MAX_SOURCES, plus at most KNOWLEDGE_MAX_MEMORY_SOURCES earlier answers.
    """
    try:
        query_embedding = llm.embed([query])[0]
    except LLMError:
        query_embedding = None  # the model is down: words alone still find documents
    hits = knowledge_search(
        query,
        query_embedding=query_embedding,
        agent=agent,
        asker=asker,
        limit=settings.KNOWLEDGE_CANDIDATES,
    )
    scored = _relevance_scored(query, hits, query_embedding)
    if not scored:
        return []
    bar = max(settings.KNOWLEDGE_MIN_SCORE, scored[0][0] * settings.KNOWLEDGE_RELATIVE_CUTOFF)
    by_document: dict[int, list[tuple[float, KnowledgeHit]]] = defaultdict(list)
    memories: list[tuple[float, KnowledgeHit]] = []
    for score, hit in scored:
        if score < bar:
            break
        if hit.kind == Chunk.Kind.MEMORY or hit.document_id is None:
            memories.append((score, hit))
        else:
            by_document[hit.document_id].append((score, hit))
    documents = list(by_document.values())[: settings.KNOWLEDGE_MAX_SOURCES]
    sources = [_document_source(matched) for matched in documents]
    sources += [
        _memory_source(score, hit)
        for score, hit in memories[: settings.KNOWLEDGE_MAX_MEMORY_SOURCES]
    ]
    return sorted(sources, key=lambda source: -source.score)


def _relevance_scored(
    query: str, hits: list[KnowledgeHit], query_embedding: list[float] | None
) -> list[tuple[float, KnowledgeHit]]:
    """(similarity + share of the question's word weight held, hit), best first."""
    if not hits:
        return []
    ids = [hit.chunk_id for hit in hits]
    similarity: dict[int, float] = {}
    if query_embedding is not None:
        similarity = {
            pk: 1.0 - float(distance)
            for pk, distance in Chunk.objects.filter(pk__in=ids, embedding__isnull=False)
            .annotate(distance=CosineDistance("embedding", query_embedding))
            .values_list("pk", "distance")
        }
    weights = query_word_weights(query)
    total = sum(weights.values())
    words = chunk_words(ids)
    scored = []
    for hit in hits:
        held = sum(w for lexeme, w in weights.items() if lexeme in words.get(hit.chunk_id, ()))
        scored.append((similarity.get(hit.chunk_id, 0.0) + (held / total if total else 0.0), hit))
    return sorted(scored, key=lambda pair: (-pair[0], pair[1].chunk_id))


def _document_source(matched: list[tuple[float, KnowledgeHit]]) -> ContextSource:
    score, best = matched[0]
    chunks = list(
        Chunk.objects.filter(document_id=best.document_id, is_live=True)
        .order_by("position")
        .only("pk", "position", "heading_path", "text")
    )
    whole = sum(len(chunk.text) for chunk in chunks)
    if whole <= settings.KNOWLEDGE_WHOLE_DOCUMENT_MAX_CHARS:
        chosen = chunks
    else:
        chosen = _neighbourhood(chunks, {hit.chunk_id for _score, hit in matched})
    return ContextSource(
        kind=Chunk.Kind.DOCUMENT,
        title=best.document_title,
        section=HEADING_PATH_SEPARATOR.join(best.heading_path[1:] or best.heading_path),
        text=_sections_text(chosen),
        score=score,
        chunk_ids=tuple(chunk.pk for chunk in chosen),
        document_id=best.document_id,
        document_key=best.document_key,
    )


def _neighbourhood(chunks: list[Chunk], matched_ids: set[int]) -> list[Chunk]:
    """The matched chunks of a long document, then their neighbours (nearest first) while
    the budget lasts, back in document order."""
    budget = settings.KNOWLEDGE_LONG_DOCUMENT_MAX_CHARS
    index_of = {chunk.pk: index for index, chunk in enumerate(chunks)}
    matched = [index_of[pk] for pk in matched_ids if pk in index_of]
    chosen: set[int] = set()
    used = 0
    for distance in range(len(chunks)):
        for center in matched:
            for index in {center - distance, center + distance}:
                if not 0 <= index < len(chunks) or index in chosen:
                    continue
                size = len(chunks[index].text)
                if chosen and used + size > budget:
                    continue
                chosen.add(index)
                used += size
        if used >= budget:
            break
    return [chunks[index] for index in sorted(chosen)]


def _sections_text(chunks: list[Chunk]) -> str:
    """The chunks as a reader would see them: a heading line when the section changes."""
    lines: list[str] = []
    current: tuple[str, ...] | None = None
    for chunk in chunks:
        path = tuple(chunk.heading_path)
        if path != current and path:
            lines.append(f"## {HEADING_PATH_SEPARATOR.join(path)}")
            current = path
        lines.append(chunk.text.strip())
    return "\n\n".join(lines)


def _memory_source(score: float, hit: KnowledgeHit) -> ContextSource:
    memory = (
        Chunk.objects.filter(pk=hit.chunk_id)
        .select_related("message")
        .only("message__channel_id", "message__answered_at", "message__created_at")
        .first()
    )
    message = memory.message if memory is not None else None
    return ContextSource(
        kind=Chunk.Kind.MEMORY,
        title="",
        section=HEADING_PATH_SEPARATOR.join(hit.heading_path),
        text=hit.text,
        score=score,
        chunk_ids=(hit.chunk_id,),
        memory_channel=message.channel_id if message else "",
        memory_date=(message.answered_at or message.created_at) if message else None,
    )
