from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField


class Document(models.Model):
    """A runbook, page or note of this tenant, split into chunks for retrieval."""

    class Source(models.TextChoices):
        STARTER_PACK = "starter_pack", _("starter pack")
        UPLOAD = "upload", _("upload")
        COMMAND_LINE = "command_line", _("command line")

    class Status(models.TextChoices):
        # Uploaded: its file is stored and waits for a worker to read it.
        QUEUED = "queued", _("waiting to be read")
        # A worker is reading it (parse and chunk, within the budget).
        PARSING = "parsing", _("being read")
        # Its chunks are stored and wait for their embeddings.
        EMBEDDING = "embedding", _("being indexed")
        READY = "ready", _("ready")
        # ``error`` says why, ``failed_step`` where; what was live stays live and searchable.
        FAILED = "failed", _("failed")

    class Step(models.TextChoices):
        # The file cannot be read (broken, empty, over the budget): retried by a re-index or
        # a new upload, never automatically.
        READING = "reading", _("reading the file")
        # The embedding model failed: retried automatically once it answers again.
        EMBEDDING = "embedding", _("computing embeddings")

    # What identifies "the same document" across re-ingests: its path in the folder that was
    # ingested, or its upload name. Re-ingesting the same key replaces, never duplicates.
    key = models.CharField(_("key"), max_length=500, unique=True)
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # None: every agent may cite it; else only this agent.
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_hash = models.CharField(_("content SHA-256"), max_length=64)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    error = models.TextField(_("last error"), blank=True)
    failed_step = models.CharField(_("failed at"), max_length=16, choices=Step.choices, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title


class DocumentFile(models.Model):
    """The bytes of a document's latest version, as uploaded.

    Kept in the tenant's schema (so every worker reaches them, and they go with the tenant):
    the worker reads them, never the web request, and a read that failed or was cut short can
    be retried from them (re-index). ``Document.content_hash`` is their SHA-256.
    """

    document = models.OneToOneField(
        Document, primary_key=True, on_delete=models.CASCADE, related_name="file"
    )
    # The name it was uploaded under: its extension says how to read it.
    name = models.CharField(_("file name"), max_length=500)
    data = models.BinaryField(_("data"))

    class Meta:
        verbose_name = _("document file")
        verbose_name_plural = _("document files")

    def __str__(self) -> str:
        return self.name


class Chunk(models.Model):
    """A piece of a document (or a remembered answer) with its embedding and its words."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", _("document")
        MEMORY = "memory", _("conversation memory")

    class Audience(models.TextChoices):
        """Who a chunk may serve. Documents serve the tenant; a memory keeps the visibility of
        where it was said: a DM serves that person only, a private channel that channel."""

        TENANT = "tenant", _("everyone in the company")
        CHANNEL = "channel", _("one channel")
        PERSON = "person", _("one person")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.TENANT
    )
    # The channel or person of a CHANNEL / PERSON audience.
    audience_id = models.CharField(_("audience ID"), max_length=32, blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="chunks"
    )
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For memory: the answer it remembers (forgetting the answer forgets the memory).
    message = models.OneToOneField(
        "conversations.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memory",
    )
    # Readers only see live chunks. A changed document's new chunks stay hidden until they are
    # all embedded, then replace the old ones in one transaction.
    is_live = models.BooleanField(_("live"), default=False)
    position = models.PositiveIntegerField(_("position"))
    heading_path = models.JSONField(_("heading path"), default=list)
    text = models.TextField(_("text"))
    embedding = VectorField(_("embedding"), dimensions=settings.EMBEDDING_DIMENSIONS, null=True)
    # Kept by PostgreSQL itself, so full-text search can never lag behind the text.
    search_vector = models.GeneratedField(
        expression=SearchVector("text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("chunk")
        verbose_name_plural = _("chunks")
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "position", "is_live"], name="chunk_unique_document_position"
            )
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=128,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="chunk_search_vector_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"
