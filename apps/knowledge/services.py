"""Putting documents into a tenant's knowledge base: store, read, chunk, embed, swap in.

Everything here runs in the current tenant schema. Ingest is idempotent per document key: the
same bytes again change nothing (SHA-256), changed bytes replace the document's chunks, and
readers never see a half-replaced document (new chunks stay hidden until all are embedded).

An upload is only stored by the web request (QUEUED); a worker reads it within the budget of
``apps.knowledge.reading`` (PARSING), stores its chunks (EMBEDDING), then embeds them (READY).
A step that fails marks the document FAILED with the reason and the step; the uploaded bytes
stay, so a re-index reads them again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pgvector import Vector
from psycopg.adapt import Dumper
from psycopg.pq import Format

from apps.agents.models import Agent
from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.llm import LLMError, LLMProvider, llm_provider_get
from apps.knowledge.models import Chunk, Document, DocumentFile
from apps.knowledge.parsing import SUPPORTED_EXTENSIONS, DocumentError, file_kind, file_title
from apps.knowledge.reading import DocumentRead, document_read, document_read_within_budget

logger = logging.getLogger(__name__)
# Enqueued by name: the tasks module imports this one (tasks are thin wrappers over services).
DOCUMENT_EMBED_TASK = "apps.knowledge.tasks.document_embed_task"
DOCUMENT_INDEX_TASK = "apps.knowledge.tasks.document_index_task"
# A document still waiting to be read after this long lost its task (a broker outage, a worker
# killed mid-read): the sweep queues it again. Longer than any read within the budget.
DOCUMENT_READ_STALE_AFTER = timedelta(minutes=15)


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
    trusted: bool = False,
) -> str:
    """Read one document in this process and store its chunks (unembedded): the command line
    and the starter packs. Returns "added", "updated" or "unchanged".

    Files are read within the budget of ``document_read_within_budget``, except ``trusted``
    ones (the starter packs the product ships), read directly. Raises DocumentError (too
    large, unsupported, broken, over the budget) before anything is written.
    """
    document_validate_size(name=name, size=len(data))
    content_hash = hashlib.sha256(data).hexdigest()
    existing = Document.objects.filter(key=key).first()
    if _is_unchanged(existing, content_hash=content_hash, agent=agent):
        return "unchanged"
    read = (document_read if trusted else document_read_within_budget)(name=name, data=data)
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(key=key).first()
        document = document or Document(key=key)
        _document_version_describe(
            document, source=source, agent=agent, content_hash=content_hash, size=len(data)
        )
        _document_version_store(document, read)
        _document_file_store(document, name=name, data=data)
    return "updated" if existing else "added"


def document_upload(*, key: str, name: str, data: bytes, agent: Agent | None = None) -> str:
    """Store a document uploaded through the API or the page, and have a worker read it: the
    request parses nothing. Returns "added" or "updated" (the document is then QUEUED), or
    "unchanged" when these bytes are already there for this agent and did not fail.

    Raises DocumentError (too large, unsupported type) before anything is written.
    """
    document_validate_size(name=name, size=len(data))
    kind = file_kind(name)
    content_hash = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        existing = Document.objects.select_for_update().filter(key=key).first()
        if _is_unchanged(existing, content_hash=content_hash, agent=agent):
            return "unchanged"
        # Until it is read, a new document is named after its file; a changed one keeps its
        # title, and its live chunks answer meanwhile.
        document = existing or Document(key=key, title=file_title(name)[:300])
        document.kind = kind
        _document_version_describe(
            document,
            source=Document.Source.UPLOAD,
            agent=agent,
            content_hash=content_hash,
            size=len(data),
        )
        document.status = Document.Status.QUEUED
        document.save()
        _document_file_store(document, name=name, data=data)
        document_index_enqueue(document)
    return "updated" if existing else "added"


def document_reindex(*, document: Document) -> None:
    """Read the document's stored file again in a worker: after a failure (the budget, a
    parser since fixed), or to chunk it anew. Raises DocumentError when no file is stored."""
    if not DocumentFile.objects.filter(document=document).exists():
        raise DocumentError(_("no stored file to read; upload it anew"))
    document.status = Document.Status.QUEUED
    document.error = ""
    document.failed_step = ""
    document.save(update_fields=["status", "error", "failed_step", "updated_at"])
    document_index_enqueue(document)


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Remove the document from this tenant's knowledge: its chunks (live, and any version
    still being embedded) and its stored file go with it, so no agent cites it again. A
    worker still reading or embedding it finds it gone and stops (see ``document_index``)."""
    Chunk.objects.filter(document=document).delete()
    document.delete()


def document_index(*, document_id: int) -> None:
    """Read a queued document's stored file (parse and chunk, in a child process within the
    budget), store its chunks and queue their embedding. A file that cannot be read, or not
    within the budget, marks the document FAILED with the reason.

    Idempotent: a document no longer queued (read already, deleted) is left alone, and a read
    whose file was replaced meanwhile is dropped: the new file's own task reads it.
    """
    claimed = Document.objects.filter(
        pk=document_id, status__in=[Document.Status.QUEUED, Document.Status.PARSING]
    ).update(status=Document.Status.PARSING, updated_at=timezone.now())
    document = Document.objects.filter(pk=document_id).first() if claimed else None
    if document is None:
        return
    stored = DocumentFile.objects.filter(document=document).first()
    try:
        if stored is None:
            raise DocumentError(_("no stored file to read; upload it anew"))
        read = document_read_within_budget(name=stored.name, data=bytes(stored.data))
    except DocumentError as exc:
        _document_read_failed(document, reason=str(exc))
        return
    with transaction.atomic():
        current = _document_being_read(document)
        if current is not None:
            _document_version_store(current, read)
            document_embed_enqueue(current)


def _is_unchanged(existing: Document | None, *, content_hash: str, agent: Agent | None) -> bool:
    return (
        existing is not None
        and existing.content_hash == content_hash
        and existing.status != Document.Status.FAILED
        and existing.agent_id == (agent.pk if agent else None)
    )


def _document_version_describe(
    document: Document, *, source: str, agent: Agent | None, content_hash: str, size: int
) -> None:
    """What a new version of the document is, before it is read (not saved)."""
    document.source = source
    document.agent = agent
    document.content_hash = content_hash
    document.size_bytes = size
    document.error = ""
    document.failed_step = ""


def _document_file_store(document: Document, *, name: str, data: bytes) -> None:
    DocumentFile.objects.update_or_create(document=document, defaults={"name": name, "data": data})


def _document_being_read(document: Document) -> Document | None:
    """The document, locked, if it is still being read from the same bytes (in a
    transaction); None if it was deleted, replaced or re-read meanwhile."""
    return (
        Document.objects.select_for_update()
        .filter(pk=document.pk, status=Document.Status.PARSING, content_hash=document.content_hash)
        .first()
    )


def _document_version_store(document: Document, read: DocumentRead) -> None:
    """Save the document as read, and the new version's chunks (in a transaction)."""
    document.title = read.title[:300]
    document.kind = read.kind
    document.status = Document.Status.EMBEDDING
    document.error = ""
    document.failed_step = ""
    document.save()
    # Drop chunks of an earlier, never-finished version; keep the live ones until the new
    # version is embedded (search keeps answering from the old text meanwhile).
    document.chunks.filter(is_live=False).delete()
    first_version = not document.chunks.filter(is_live=True).exists()
    Chunk.objects.bulk_create(
        Chunk(
            kind=Chunk.Kind.DOCUMENT,
            document=document,
            agent=document.agent,
            # A first version is searchable by its words at once, before any embedding.
            is_live=first_version,
            position=draft.position,
            heading_path=list(draft.heading_path),
            text=draft.embedding_text(),
        )
        for draft in read.chunks
    )


def _document_read_failed(document: Document, *, reason: str) -> None:
    """FAILED at reading, with the reason; what is live stays live. Chunks of an earlier
    unfinished version go: nothing will embed them now."""
    with transaction.atomic():
        current = _document_being_read(document)
        if current is None:
            return
        current.chunks.filter(is_live=False).delete()
        current.status = Document.Status.FAILED
        current.failed_step = Document.Step.READING
        current.error = reason[:2000]
        current.save(update_fields=["status", "failed_step", "error", "updated_at"])


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

    Idempotent: embedded chunks are not embedded again, and a document that is not waiting
    for embeddings (queued again, being read, failed at reading) is left alone. On failure
    the document is marked FAILED with the reason; whatever was live stays live and
    searchable.
    """
    if not documents_waiting_for_embedding().filter(pk=document.pk).exists():
        return
    pending = list(document.chunks.filter(embedding__isnull=True).order_by("is_live", "position"))
    try:
        chunks_embed(pending, llm=llm or llm_provider_get(), on_progress=on_progress)
    except EmbeddingError as exc:
        _document_embedding_failed(document, reason=str(exc))
        raise
    with transaction.atomic():
        waiting = documents_waiting_for_embedding().select_for_update()
        current = waiting.filter(pk=document.pk).first()
        # Chunks still without embeddings are a newer version's, stored meanwhile: its own
        # embedding task swaps it in.
        if current is None or current.chunks.filter(embedding__isnull=True).exists():
            return
        new_version = current.chunks.filter(is_live=False)
        if new_version.exists():
            current.chunks.filter(is_live=True).delete()
            new_version.update(is_live=True)
        current.status = Document.Status.READY
        current.error = ""
        current.failed_step = ""
        current.save(update_fields=["status", "error", "failed_step", "updated_at"])
    document.refresh_from_db(fields=["status", "error", "failed_step", "updated_at"])


def _document_embedding_failed(document: Document, *, reason: str) -> None:
    document.status = Document.Status.FAILED
    document.failed_step = Document.Step.EMBEDDING
    document.error = reason[:2000]
    # Only if it still waits for these embeddings: a new upload meanwhile stays queued.
    documents_waiting_for_embedding().filter(pk=document.pk).update(
        status=document.status,
        failed_step=document.failed_step,
        error=document.error,
        updated_at=timezone.now(),
    )


def documents_waiting_for_embedding():
    """Documents whose chunks are stored and wait for embeddings, or whose embedding failed
    (retried once the model answers again)."""
    return Document.objects.filter(
        Q(status=Document.Status.EMBEDDING)
        | Q(status=Document.Status.FAILED, failed_step=Document.Step.EMBEDDING)
    )


def documents_waiting_for_reading():
    """Documents queued or being read for longer than any read takes: their task was lost."""
    stale_after = max(
        DOCUMENT_READ_STALE_AFTER, timedelta(seconds=2 * settings.KNOWLEDGE_PARSE_TIME_LIMIT_S)
    )
    return Document.objects.filter(
        status__in=[Document.Status.QUEUED, Document.Status.PARSING],
        updated_at__lt=timezone.now() - stale_after,
    )


def document_embed_enqueue(document: Document) -> None:
    enqueue_for_tenant(
        DOCUMENT_EMBED_TASK,
        schema_name=connection.schema_name,
        kwargs={"document_id": document.pk},
    )


def document_index_enqueue(document: Document) -> None:
    enqueue_for_tenant(
        DOCUMENT_INDEX_TASK,
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
    report: IngestReport,
    *,
    key: str,
    file: Path,
    source: str,
    agent: Agent | None = None,
    trusted: bool = False,
) -> None:
    """Ingest one file from disk, recording the outcome (or the one-line reason it was
    skipped) in ``report``; a bad file never stops the others. ``trusted``: as in
    ``document_ingest``."""
    if not supported_extension(file):
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        report.failed.append((key, f"unsupported file type (supported: {supported})"))
        return
    try:
        outcome = document_ingest(
            key=key,
            name=file.name,
            data=file.read_bytes(),
            source=source,
            agent=agent,
            trusted=trusted,
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
            # The product's own files: read in this process, without the child's budget.
            file_ingest(
                report,
                key=key,
                file=file,
                source=Document.Source.STARTER_PACK,
                agent=agent,
                trusted=True,
            )
    for document in Document.objects.filter(key__in=report.changed):
        document_embed_enqueue(document)
    return report


def supported_extension(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_EXTENSIONS


def memory_store(
    *,
    message,
    agent: Agent,
    heading_path: list[str],
    text: str,
    audience: str = Chunk.Audience.TENANT,
    audience_id: str = "",
    llm: LLMProvider | None = None,
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
            "audience": audience,
            "audience_id": audience_id,
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
