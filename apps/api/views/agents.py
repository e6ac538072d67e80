"""Agents, the tool catalogue, and which tools each agent has on."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents.models import Agent
from apps.agents.selectors import agent_list
from apps.api.serializers import (
    AgentSerializer,
    AgentToolSerializer,
    AgentToolSetSerializer,
    ToolSerializer,
)
from apps.api.views.base import ApiGenericView, ApiView
from apps.tools.catalog import TOOLS
from apps.tools.models import AgentTool
from apps.tools.selectors import tool_enabled_for
from apps.tools.services import agent_tool_set


class AgentListView(generics.ListAPIView, ApiGenericView):
    """This company's agents."""

    serializer_class = AgentSerializer
    permission_model = Agent
    filterset_fields = ["enabled"]
    ordering_fields = ["id", "slug", "created_at"]

    def get_queryset(self):
        return agent_list()


class AgentDetailView(generics.RetrieveUpdateAPIView, ApiGenericView):
    """One agent; ``PATCH`` changes its settings (those it names)."""

    http_method_names = ["get", "patch", "head", "options"]
    serializer_class = AgentSerializer
    permission_model = Agent
    lookup_field = "slug"

    def get_queryset(self):
        return agent_list()


def _tool_row(name: str, enabled: bool) -> dict:
    tool = TOOLS[name]
    return {
        "tool": name,
        "description": tool.description,
        "risk": tool.risk,
        "integration": tool.integration,
        "enabled": enabled,
    }


def _agent_get(slug: str) -> Agent:
    agent = agent_list().filter(slug=slug).first()
    if agent is None:
        raise Http404
    return agent


class ToolListView(ApiView):
    """The tools agents may be given (the catalogue is the same for every company)."""

    permission_model = AgentTool

    @extend_schema(responses=ToolSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [
            {
                "name": tool.name,
                "description": tool.description,
                "risk": tool.risk,
                "integration": tool.integration,
                "agents": sorted(tool.agents),
                "parameters": tool.parameters,
            }
            for tool in TOOLS.values()
        ]
        return Response(ToolSerializer(rows, many=True).data)


class AgentToolListView(ApiView):
    """The tools this agent may use, and whether each is on."""

    permission_model = AgentTool

    @extend_schema(responses=AgentToolSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        switches = tool_enabled_for(_agent_get(slug))
        rows = [_tool_row(name, enabled) for name, enabled in sorted(switches.items())]
        return Response(AgentToolSerializer(rows, many=True).data)


class AgentToolDetailView(ApiView):
    """One tool of this agent; ``PUT`` (or ``PATCH``) ``{"enabled": …}`` switches it."""

    permission_model = AgentTool

    def _switches(self, slug: str, tool: str) -> tuple[Agent, dict[str, bool]]:
        agent = _agent_get(slug)
        switches = tool_enabled_for(agent)
        if tool not in switches:
            raise Http404
        return agent, switches

    @extend_schema(responses=AgentToolSerializer)
    def get(self, request: Request, slug: str, tool: str) -> Response:
        _agent, switches = self._switches(slug, tool)
        return Response(AgentToolSerializer(_tool_row(tool, switches[tool])).data)

    @extend_schema(request=AgentToolSetSerializer, responses=AgentToolSerializer)
    def put(self, request: Request, slug: str, tool: str) -> Response:
        agent, _switches = self._switches(slug, tool)
        change = AgentToolSetSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        switch = agent_tool_set(agent, tool, enabled=change.validated_data["enabled"])
        return Response(AgentToolSerializer(_tool_row(tool, switch.enabled)).data)

    @extend_schema(request=AgentToolSetSerializer, responses=AgentToolSerializer)
    def patch(self, request: Request, slug: str, tool: str) -> Response:
        return self.put(request, slug, tool)
