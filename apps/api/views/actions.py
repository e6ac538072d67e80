"""The audit of what agents did (every tool call, done or not): read only."""

from __future__ import annotations

from rest_framework import generics

from apps.api.filters import ActionFilter
from apps.api.selectors import action_list
from apps.api.serializers import ActionSerializer
from apps.api.views.base import ApiGenericView
from apps.tools.models import ToolCallRecord


class ActionListView(generics.ListAPIView, ApiGenericView):
    serializer_class = ActionSerializer
    permission_model = ToolCallRecord
    filterset_class = ActionFilter

    def get_queryset(self):
        return action_list()


class ActionDetailView(generics.RetrieveAPIView, ApiGenericView):
    serializer_class = ActionSerializer
    permission_model = ToolCallRecord

    def get_queryset(self):
        return action_list()
