"""Query-string filters of the list endpoints (``django-filter``): a value of the wrong shape
is a 400 naming the field."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from apps.agents.models import Agent
from apps.api.selectors import DIRECT_MESSAGE_CHANNEL_TYPES
from apps.conversations.models import Conversation, Message
from apps.knowledge.models import Document
from apps.tools.models import Risk, ToolCallRecord
from apps.votes.models import Vote

SEARCH_MAX_LENGTH = 200


class AgentSlugChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        # PostgreSQL refuses NUL in a query's text: a field error, not a crash.
        if isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class AgentFilter(django_filters.ModelChoiceFilter):
    """An agent named by its slug."""

    field_class = AgentSlugChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Agent.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("help_text", _("An agent's slug (nox, atlas, …)."))
        super().__init__(*args, **kwargs)


class TextSearchFilter(django_filters.CharFilter):
    """Words in the text, outside direct messages (their text is private to their person:
    searching it would tell what it says)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        kwargs.setdefault("help_text", _("Words the text contains (direct messages excluded)."))
        super().__init__(*args, **kwargs)


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date and time, compared in UTC: PostgreSQL refuses offsets beyond ±15:59
    that Python accepts (up to ±23:59)."""

    def filter(self, qs: QuerySet, value):
        if value:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise ValidationError(
                    {self.field_name: [_("This date and time is out of range.")]}
                ) from None
        return super().filter(qs, value)


class DocumentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Document.Status.choices)
    agent = AgentFilter()

    class Meta:
        model = Document
        fields = ["status", "agent", "kind", "source"]


class ConversationFilter(django_filters.FilterSet):
    agent = AgentFilter()
    is_direct = django_filters.BooleanFilter(method="filter_is_direct")
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")
    q = TextSearchFilter(method="filter_q")

    class Meta:
        model = Conversation
        fields = ["agent", "channel_type", "channel_id", "started_by"]

    def filter_is_direct(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        direct = {"channel_type__in": DIRECT_MESSAGE_CHANNEL_TYPES}
        return queryset.filter(**direct) if value else queryset.exclude(**direct)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        matching = Message.objects.filter(
            conversation=OuterRef("pk"), text__icontains=value.strip()
        ).exclude(channel_type__in=DIRECT_MESSAGE_CHANNEL_TYPES)
        return queryset.exclude(channel_type__in=DIRECT_MESSAGE_CHANNEL_TYPES).filter(
            Exists(matching)
        )


class MessageFilter(django_filters.FilterSet):
    agent = AgentFilter(field_name="conversation__agent")
    role = django_filters.ChoiceFilter(choices=Message.Role.choices)
    status = django_filters.ChoiceFilter(choices=Message.Status.choices)
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")
    q = TextSearchFilter(method="filter_q")

    class Meta:
        model = Message
        fields = ["conversation", "role", "status", "agent", "slack_user_id", "channel_id"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        return queryset.exclude(channel_type__in=DIRECT_MESSAGE_CHANNEL_TYPES).filter(
            text__icontains=value.strip()
        )


class VoteFilter(django_filters.FilterSet):
    agent = AgentFilter()
    status = django_filters.ChoiceFilter(choices=Vote.Status.choices)
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Vote
        fields = ["agent", "tool", "status", "conversation"]


class ActionFilter(django_filters.FilterSet):
    agent = AgentFilter()
    risk = django_filters.ChoiceFilter(choices=Risk.choices)
    status = django_filters.ChoiceFilter(choices=ToolCallRecord.Status.choices)
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ToolCallRecord
        fields = ["agent", "tool", "risk", "status", "conversation"]
