"""Conversations and their messages, read and searched (``?q=``). A direct message is listed
with what it is (who, when, which agent) but never its text: that serves only its person."""

from __future__ import annotations

from rest_framework import generics

from apps.api.filters import ConversationFilter, MessageFilter
from apps.api.selectors import conversation_list, message_list
from apps.api.serializers import ConversationSerializer, MessageSerializer
from apps.api.views.base import ApiGenericView
from apps.conversations.models import Conversation, Message


class ConversationListView(generics.ListAPIView, ApiGenericView):
    serializer_class = ConversationSerializer
    permission_model = Conversation
    filterset_class = ConversationFilter
    ordering_fields = ["id", "created_at", "updated_at"]

    def get_queryset(self):
        return conversation_list()


class ConversationDetailView(generics.RetrieveAPIView, ApiGenericView):
    serializer_class = ConversationSerializer
    permission_model = Conversation

    def get_queryset(self):
        return conversation_list()


class MessageListView(generics.ListAPIView, ApiGenericView):
    """Questions and answers (``?conversation=<id>`` for one thread, oldest first with
    ``?ordering=id``)."""

    serializer_class = MessageSerializer
    permission_model = Message
    filterset_class = MessageFilter

    def get_queryset(self):
        return message_list()


class MessageDetailView(generics.RetrieveAPIView, ApiGenericView):
    serializer_class = MessageSerializer
    permission_model = Message

    def get_queryset(self):
        return message_list()
