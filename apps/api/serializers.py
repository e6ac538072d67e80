"""Request and response shapes of the REST API (``/api/v1/``).

Request serializers check the shape of what was sent (400 with field errors); the rules of
the domain (a knowledge file's size limit and types, which tools an agent may use) stay in its
services.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.agents.models import Agent
from apps.api.selectors import DIRECT_MESSAGE_CHANNEL_TYPES
from apps.conversations.models import Conversation, Message
from apps.knowledge.models import Chunk, Document
from apps.tools.models import Risk, ToolCallRecord
from apps.votes.models import Ballot, Vote, VoteExecution

METRICS_DEFAULT_DAYS = 30
METRICS_MAX_DAYS = 366

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

    def to_internal_value(self, data):
        # PostgreSQL refuses NUL in a query's text: a field error, not a crash.
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class DocumentSerializer(serializers.ModelSerializer):
    """A document as listed: what it is, who may cite it, and how far its indexing got."""

    agent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    failed_step = serializers.ChoiceField(
        choices=Document.Step.choices, allow_blank=True, read_only=True
    )
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

    def validate_file(self, upload):
        if "\x00" in (upload.name or ""):
            raise serializers.ValidationError(_("The file name must not contain NUL characters."))
        return upload


class DocumentUploadResultSerializer(DocumentSerializer):
    """The stored document, plus what the upload did: ``added``, ``updated``, ``unchanged``."""

    outcome = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "outcome"]
        read_only_fields = fields

    def get_outcome(self, document: Document) -> str:
        return self.context["outcome"]


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


# Agents and tools ------------------------------------------------------------------------------


class AgentSerializer(serializers.ModelSerializer):
    """An agent; a write changes only its settings (enabled, model, temperature, context size,
    persona), checked by the model's own limits."""

    class Meta:
        model = Agent
        fields = [
            "slug",
            "name",
            "title",
            "description",
            "enabled",
            "model",
            "temperature",
            "context_size",
            "persona",
            "command_prefix",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "slug",
            "name",
            "title",
            "description",
            "command_prefix",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"model": {"allow_blank": False}, "persona": {"allow_blank": False}}


class ToolSerializer(serializers.Serializer):
    """A tool of the catalogue: what it does, its risk, what it needs connected, who may use it."""

    name = serializers.CharField()
    description = serializers.CharField()
    risk = serializers.ChoiceField(choices=Risk.choices)
    integration = serializers.CharField()
    agents = serializers.ListField(child=serializers.CharField())
    parameters = serializers.JSONField()


class AgentToolSerializer(serializers.Serializer):
    """One tool an agent may use, and whether this company has it on for that agent."""

    tool = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    risk = serializers.ChoiceField(choices=Risk.choices, read_only=True)
    integration = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField()


class AgentToolSetSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


# Conversations and messages --------------------------------------------------------------------


def is_direct(channel_type: str) -> bool:
    """A direct message: its text serves only its person, never a company-wide caller."""
    return channel_type in DIRECT_MESSAGE_CHANNEL_TYPES


class ConversationSerializer(serializers.ModelSerializer):
    agent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    is_direct = serializers.SerializerMethodField()
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "agent",
            "team_id",
            "channel_id",
            "channel_type",
            "is_direct",
            "thread_ts",
            "started_by",
            "message_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_direct(self, conversation: Conversation) -> bool:
        return is_direct(conversation.channel_type)


class MessageSerializer(serializers.ModelSerializer):
    """A question or an answer. In a direct message, ``text`` and ``sources`` are null
    (``text_private``): what a person says to an agent alone is theirs."""

    text = serializers.SerializerMethodField()
    sources = serializers.SerializerMethodField()
    text_private = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "in_reply_to",
            "role",
            "status",
            "slack_user_id",
            "channel_id",
            "channel_type",
            "text_private",
            "text",
            "sources",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "llm_duration_ms",
            "answer_latency_ms",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields

    def get_text_private(self, message: Message) -> bool:
        return is_direct(message.channel_type)

    def get_text(self, message: Message) -> str | None:
        return None if is_direct(message.channel_type) else message.text

    @extend_schema_field(serializers.ListField(child=serializers.DictField(), allow_null=True))
    def get_sources(self, message: Message) -> list | None:
        return None if is_direct(message.channel_type) else message.sources


# Actions (the audit of tool calls) -------------------------------------------------------------


class AskedInConversationSerializer(serializers.ModelSerializer):
    """A record of something an agent was asked to do in a conversation (a tool call, a vote
    on one): ``private`` when that conversation is a direct message, whose words the record
    may quote, so those fields are shown as null (``_shown``)."""

    agent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    private = serializers.SerializerMethodField()

    def get_private(self, record) -> bool:
        return record.conversation is not None and is_direct(record.conversation.channel_type)

    def _shown(self, record, value):
        return None if self.get_private(record) else value


class ActionSerializer(AskedInConversationSerializer):
    """A tool call an agent made. In a direct message, what it was called with and what it
    gave (``arguments``, ``result``, ``summary``, ``error``) are null: they may quote it."""

    arguments = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = ToolCallRecord
        fields = [
            "id",
            "agent",
            "conversation",
            "question",
            "requested_by",
            "tool",
            "risk",
            "status",
            "private",
            "summary",
            "arguments",
            "result",
            "error",
            "attempts",
            "duration_ms",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_arguments(self, call: ToolCallRecord) -> dict | None:
        return self._shown(call, call.arguments)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_result(self, call: ToolCallRecord) -> dict | None:
        return self._shown(call, call.result)

    def get_summary(self, call: ToolCallRecord) -> str | None:
        return self._shown(call, call.summary)

    def get_error(self, call: ToolCallRecord) -> str | None:
        return self._shown(call, call.error)


# Votes (approvals of tool calls) -----------------------------------------------------------------


class BallotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ballot
        fields = ["voter", "choice", "advisory", "reason", "created_at", "updated_at"]
        read_only_fields = fields


class VoteExecutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = VoteExecution
        fields = ["status", "check_summary", "summary", "tool_call", "started_at", "finished_at"]
        read_only_fields = fields


class VoteSerializer(AskedInConversationSerializer):
    """A tool call waiting for (or decided by) people's votes. In a direct message, what it
    was to be called with, the advisers' reasons and what it gave are null: they may quote it.
    The encrypted arguments the worker runs with are never part of it."""

    arguments = serializers.SerializerMethodField()
    ballots = serializers.SerializerMethodField()
    execution = serializers.SerializerMethodField()

    class Meta:
        model = Vote
        fields = [
            "id",
            "agent",
            "conversation",
            "question",
            "requested_by",
            "tool",
            "risk",
            "status",
            "private",
            "arguments",
            "rule",
            "deadline",
            "ballots",
            "execution",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_arguments(self, vote: Vote) -> dict | None:
        return self._shown(vote, vote.arguments)

    @extend_schema_field(BallotSerializer(many=True))
    def get_ballots(self, vote: Vote) -> list[dict]:
        ballots = BallotSerializer(vote.ballots.all(), many=True).data
        if self.get_private(vote):
            for ballot in ballots:
                ballot["reason"] = None
        return ballots

    @extend_schema_field(VoteExecutionSerializer(allow_null=True))
    def get_execution(self, vote: Vote) -> dict | None:
        execution = getattr(vote, "execution", None)
        if execution is None:
            return None
        shown = VoteExecutionSerializer(execution).data
        if self.get_private(vote):
            shown["summary"] = shown["check_summary"] = None
        return shown


# Metrics -----------------------------------------------------------------------------------------


class MetricsQuerySerializer(serializers.Serializer):
    agent = AgentSlugField(required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs: dict) -> dict:
        today = timezone.localdate()
        until = attrs.get("until") or today
        since = attrs.get("since") or until - timedelta(days=METRICS_DEFAULT_DAYS - 1)
        if since > until:
            raise serializers.ValidationError({"since": _("“since” must not be after “until”.")})
        if (until - since).days >= METRICS_MAX_DAYS:
            raise serializers.ValidationError(
                {"since": _("At most %(days)s days at once.") % {"days": METRICS_MAX_DAYS}}
            )
        return {**attrs, "since": since, "until": until}


class AgentDayMetricsSerializer(serializers.Serializer):
    agent = serializers.CharField()
    date = serializers.DateField()
    answers = serializers.IntegerField()
    median_answer_ms = serializers.IntegerField(allow_null=True)
    actions = serializers.DictField(child=serializers.IntegerField())
    feedback_up = serializers.IntegerField()
    feedback_down = serializers.IntegerField()
