"""Votes on tool calls (approvals): read only; people vote in the chat thread."""

from __future__ import annotations

from rest_framework import generics

from apps.api.filters import VoteFilter
from apps.api.selectors import vote_list
from apps.api.serializers import VoteSerializer
from apps.api.views.base import ApiGenericView
from apps.votes.models import Vote


class VoteListView(generics.ListAPIView, ApiGenericView):
    serializer_class = VoteSerializer
    permission_model = Vote
    filterset_class = VoteFilter

    def get_queryset(self):
        return vote_list()


class VoteDetailView(generics.RetrieveAPIView, ApiGenericView):
    serializer_class = VoteSerializer
    permission_model = Vote

    def get_queryset(self):
        return vote_list()
