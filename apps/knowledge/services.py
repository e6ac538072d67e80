"""Putting documents into a tenant's knowledge base: validate, chunk, embed, swap in.

Everything here runs in the current tenant schema. Ingest is idempotent per document key: the
same bytes again change nothing (SHA-256), changed bytes replace the document's chunks, and
readers never see a half-replaced document (new chunks stay hidden until all are embedded).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from pgvector import Vector
from psycopg.adapt import Dumper
from psycopg.pq import Format

from apps.agents.models import Agent
from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.llm import LLMError, LLMProvider, llm_provider_get
from apps.knowledge.chunking import document_chunk
from apps.knowledge.models import Chunk, Document
from apps.knowledge.parsing import SUPPORTED_EXTENSIONS, DocumentError, document_parse

logger = logging.getLogger(__name__)
# Enqueued by name: the tasks module imports this one (tasks are thin wrappers over services).
DOCUMENT_EMBED_TASK = "apps.knowledge.tasks.document_embed_task"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, one-line reason)

    @property
    def changed(self) -> list[str]:
        return self.added + self.updated


class EmbeddingError(RuntimeError):
    """Embeddings could not be computed (model unreachable, wrong vector size)."""


def document_validate_size(*, name: str, size: int) -> None:
    limit = settings.KNOWLEDGE_MAX_FILE_BYTES
    if size > limit:
        raise DocumentError(
            _("%(name)s is %(size)s bytes, over the %(limit)s-byte limit")
            % {"name": name, "size": f"{size:,}", "limit": f"{limit:,}"}
        )


def document_ingest(
    *,
    key: str,
    name: str,
    data: bytes,
    source: str,
    agent: Agent | None = None,
) -> str:
    """Store one document's chunks (unembedded). Returns "added", "updated" or "unchanged".

    Raises DocumentError (too large, unsupported, broken) before anything is written.
    """
    document_validate_size(name=name, size=len(data))
    content_hash = hashlib.sha256(data).hexdigest()
    existing = Document.objects.filter(key=key).first()
    if (
        existing
        and existing.content_hash == content_hash
        and existing.status != Document.Status.FAILED
        and existing.agent_id == (agent.pk if agent else None)
    ):
        return "unchanged"
    parsed = document_parse(name=name, data=data)
    drafts = document_chunk(parsed)
    if not drafts:
        raise DocumentError(_("%(name)s: no text to index") % {"name": name})

    with transaction.atomic():
        document = existing or Document(key=key)
        document.title = parsed.title[:300]
        document.kind = parsed.kind
        document.source = source
        document.agent = agent
        document.content_hash = content_hash
        document.size_bytes = len(data)
        document.status = Document.Status.EMBEDDING
        document.error = ""
        document.save()
        # Drop chunks of an earlier, never-finished version; keep the live ones until the new
        # version is embedded (search keeps answering from the old text meanwhile).
        document.chunks.filter(is_live=False).delete()
        first_version = not document.chunks.filter(is_live=True).exists()
        Chunk.objects.bulk_create(
            Chunk(
                kind=Chunk.Kind.DOCUMENT,
                document=document,
                agent=agent,
                # A first version is searchable by its words at once, before any embedding.
                is_live=first_version,
                position=draft.position,
                heading_path=list(draft.heading_path),
                text=draft.embedding_text(),
            )
            for draft in drafts
        )
    return "updated" if existing else "added"


def document_upload(*, key: str, name: str, data: bytes, agent: Agent | None = None) -> str:
    """A document uploaded through the API or the dashboard: ingest it, and have the worker
    embed it when it changed. Returns the ingest outcome."""
    outcome = document_ingest(
        key=key, name=name, data=data, source=Document.Source.UPLOAD, agent=agent
    )
    if outcome != "unchanged":
        document_embed_enqueue(Document.objects.get(key=key))
    return outcome


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _VectorBinaryDumper(Dumper):
    """pgvector's binary wire format (dimensions, then float4s): packing is ~20x cheaper than
    writing 768 numbers as text, and the server does not parse them back."""

    format = Format.BINARY

    def dump(self, obj: Vector) -> bytes:
        return obj.to_binary()


def _embeddings_store(chunks: list[Chunk]) -> None:
    """One prepared UPDATE per chunk, pipelined, in one transaction (one WAL flush).

    Django's cursors bind parameters client-side, as text; the vectors go through a
    server-binding psycopg cursor on the same connection instead, in binary. The Django
    cursor is opened first so the tenant's search_path is set on the connection.
    """
    table = Chunk._meta.db_table
    with (
        transaction.atomic(),
        connection.cursor(),
        psycopg.Cursor(connection.connection) as cursor,
    ):
        cursor.adapters.register_dumper(Vector, _VectorBinaryDumper)
        cursor.executemany(
            f'UPDATE "{table}" SET embedding = %b::vector WHERE id = %s',  # noqa: S608
            [(Vector(chunk.embedding), chunk.pk) for chunk in chunks],
        )


def chunks_embed(
    chunks: list[Chunk],
    *,
    llm: LLMProvider,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Compute and store the embeddings of ``chunks``, one provider call per batch."""
    for batch in _batches(chunks, settings.KNOWLEDGE_EMBED_BATCH_SIZE):
        try:
            vectors = llm.embed([chunk.text for chunk in batch])
        except LLMError as exc:
            raise EmbeddingError(str(exc)) from exc
        for chunk, vector in zip(batch, vectors, strict=True):
            if len(vector) != settings.EMBEDDING_DIMENSIONS:
                raise EmbeddingError(
                    f"the embedding model returned {len(vector)} dimensions; "
                    f"EMBEDDING_DIMENSIONS is {settings.EMBEDDING_DIMENSIONS}"
                )
            chunk.embedding = vector
        _embeddings_store(batch)
        if on_progress:
            on_progress(len(batch))


def document_embed(
    document: Document,
    *,
    llm: LLMProvider | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Embed the document's unembedded chunks, then swap the new version in atomically.

    Idempotent: embedded chunks are not embedded again. On failure the document is marked
    FAILED with the reason; whatever was live stays live and searchable.
    """
    pending = list(document.chunks.filter(embedding__isnull=True).order_by("is_live", "position"))
    try:
        chunks_embed(pending, llm=llm or llm_provider_get(), on_progress=on_progress)
    except EmbeddingError as exc:
        document.status = Document.Status.FAILED
        document.error = str(exc)[:2000]
        document.save(update_fields=["status", "error", "updated_at"])
        raise
    with transaction.atomic():
        new_version = document.chunks.filter(is_live=False)
        if new_version.exists():
            document.chunks.filter(is_live=True).delete()
            new_version.update(is_live=True)
        document.status = Document.Status.READY
        document.error = ""
        document.save(update_fields=["status", "error", "updated_at"])


def documents_waiting_for_embedding():
    return Document.objects.filter(status__in=[Document.Status.EMBEDDING, Document.Status.FAILED])


def document_embed_enqueue(document: Document) -> None:
    enqueue_for_tenant(
        DOCUMENT_EMBED_TASK,
        schema_name=connection.schema_name,
        kwargs={"document_id": document.pk},
    )


def folder_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """Every file under the given files/folders, as (file, the root it was found under),
    sorted, hidden files skipped."""
    found: list[tuple[Path, Path]] = []
    for path in paths:
        if path.is_dir():
            found += [
                (file, path)
                for file in sorted(path.rglob("*"))
                if file.is_file()
                and not any(p.startswith(".") for p in file.relative_to(path).parts)
            ]
        else:
            found.append((path, path.parent))
    return found


def file_ingest(
    report: IngestReport, *, key: str, file: Path, source: str, agent: Agent | None = None
) -> None:
    """Ingest one file from disk, recording the outcome (or the one-line reason it was
    skipped) in ``report``; a bad file never stops the others."""
    if not supported_extension(file):
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        report.failed.append((key, f"unsupported file type (supported: {supported})"))
        return
    try:
        outcome = document_ingest(
            key=key, name=file.name, data=file.read_bytes(), source=source, agent=agent
        )
    except DocumentError as exc:
        report.failed.append((key, str(exc)))
    except OSError as exc:
        report.failed.append((key, f"cannot read: {exc.strerror}"))
    else:
        getattr(report, outcome).append(key)


def starter_packs_load() -> IngestReport:
    """Load the shipped starter knowledge of every agent this tenant has into its knowledge
    base (``knowledge_base/<agent slug>/*.md``), and enqueue the embeddings. Idempotent."""
    report = IngestReport()
    root = Path(settings.STARTER_KNOWLEDGE_DIR)
    agents = {agent.slug: agent for agent in Agent.objects.all()}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        agent = agents.get(folder.name)
        if agent is None:
            continue
        for file in sorted(folder.glob("*.md")):
            key = f"starter/{folder.name}/{file.name}"
            file_ingest(
                report, key=key, file=file, source=Document.Source.STARTER_PACK, agent=agent
            )
    for document in Document.objects.filter(key__in=report.changed):
        document_embed_enqueue(document)
    return report


def supported_extension(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_EXTENSIONS


def memory_store(
    *, message, agent: Agent, heading_path: list[str], text: str, llm: LLMProvider | None = None
) -> Chunk:
    """Keep ``text`` as memory tied to ``message`` (one memory per message: idempotent), and
    embed it. If the embedding fails the memory is still kept, findable by its words."""
    chunk, created = Chunk.objects.get_or_create(
        message=message,
        defaults={
            "kind": Chunk.Kind.MEMORY,
            "agent": agent,
            "is_live": True,
            "position": 0,
            "heading_path": heading_path,
            "text": text,
        },
    )
    if created or chunk.embedding is None:
        try:
            chunks_embed([chunk], llm=llm or llm_provider_get())
        except EmbeddingError as exc:
            logger.info("Memory of message %s kept without embedding: %s", message.pk, exc)
    return chunk


def memory_forget(*, message) -> None:
    """Remove the memory tied to ``message``: it must not ground later answers."""
    Chunk.objects.filter(message=message).delete()
