"""Figures per agent per day, for a company's own reports."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.selectors import agent_daily_metrics
from apps.api.serializers import AgentDayMetricsSerializer, MetricsQuerySerializer
from apps.api.views.base import ApiView
from apps.conversations.models import Message


class MetricsView(ApiView):
    """``GET ?since=YYYY-MM-DD&until=YYYY-MM-DD&agent=<slug>`` (the last 30 days by default):
    per agent and day, answers given, their median time, actions done by tool, 👍 and 👎."""

    permission_model = Message

    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=inline_serializer(
            "AgentMetrics", {"results": AgentDayMetricsSerializer(many=True)}
        ),
    )
    def get(self, request: Request) -> Response:
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = agent_daily_metrics(
            since=query.validated_data["since"],
            until=query.validated_data["until"],
            agent=query.validated_data.get("agent"),
        )
        body = AgentDayMetricsSerializer([asdict(row) for row in rows], many=True).data
        return Response({"results": body})
