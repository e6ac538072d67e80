"""Request and response shapes of the knowledge REST API (``/api/knowledge/``).

Request serializers check the shape of what was sent (400 with field errors); the rules of
the knowledge base itself (size limit, supported types, broken files) stay in the services.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.agents.models import Agent
from apps.knowledge.models import Chunk, Document

SEARCH_QUERY_MAX_LENGTH = 500
SEARCH_LIMIT_MAX = 20
SEARCH_LIMIT_DEFAULT = 5


class AgentSlugField(serializers.SlugRelatedField):
    """An agent of this tenant, named by its slug; an unknown slug is a field error."""

    default_error_messages = {
        "does_not_exist": _("No agent with the slug “{value}”."),
        "invalid": _("Not a valid agent slug."),
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Agent.objects.all(), **kwargs)


class DocumentSerializer(serializers.ModelSerializer):
    """A document as listed: what it is, who may cite it, and how far its indexing got."""

    agent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    chunk_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "key",
            "title",
            "kind",
            "source",
            "agent",
            "size_bytes",
            "status",
            "error",
            "failed_step",
            "chunk_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChunkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Chunk
        fields = ["id", "position", "heading_path", "text"]
        read_only_fields = fields


class DocumentDetailSerializer(DocumentSerializer):
    """A document with its searchable chunks in order, at most ``chunks_shown`` of them."""

    chunks = serializers.SerializerMethodField()
    chunks_truncated = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "chunks", "chunks_truncated"]
        read_only_fields = fields

    def _chunks_shown(self, document: Document) -> list[Chunk]:
        # The view prefetches the live chunks, already capped, onto ``chunks_shown``.
        return document.chunks_shown

    def get_chunks(self, document: Document) -> list[dict]:
        return ChunkSerializer(self._chunks_shown(document), many=True).data

    def get_chunks_truncated(self, document: Document) -> bool:
        return len(self._chunks_shown(document)) < document.chunk_count


class DocumentUploadSerializer(serializers.Serializer):
    """``multipart/form-data``: ``file`` (required), ``agent`` (slug), ``key``."""

    file = serializers.FileField(allow_empty_file=True, use_url=False)
    agent = AgentSlugField(required=False, allow_null=True)
    key = serializers.CharField(
        required=False,
        allow_blank=False,
        max_length=Document._meta.get_field("key").max_length,
        help_text=_("What identifies the document across uploads; defaults to the file name."),
    )


class DocumentUploadResultSerializer(DocumentSerializer):
    """The stored document, plus what the upload did: ``added``, ``updated``, ``unchanged``."""

    outcome = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "outcome"]
        read_only_fields = fields

    def get_outcome(self, document: Document) -> str:
        return self.context["outcome"]


class DocumentListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Document.Status.choices, required=False)


class KnowledgeSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=SEARCH_QUERY_MAX_LENGTH, trim_whitespace=True)
    agent = AgentSlugField(required=False)
    limit = serializers.IntegerField(
        min_value=1, max_value=SEARCH_LIMIT_MAX, default=SEARCH_LIMIT_DEFAULT
    )


class KnowledgeHitSerializer(serializers.Serializer):
    """One ``KnowledgeHit`` of ``knowledge_search``, best first."""

    chunk_id = serializers.IntegerField()
    kind = serializers.CharField()
    document_id = serializers.IntegerField(allow_null=True)
    document_title = serializers.CharField()
    document_key = serializers.CharField()
    heading_path = serializers.ListField(child=serializers.CharField())
    text = serializers.CharField()
    similarity = serializers.FloatField(allow_null=True)
    text_rank = serializers.FloatField(allow_null=True)
    score = serializers.FloatField()
