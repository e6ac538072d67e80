"""Reads: which tools an agent is offered, the tenant's allow-list, incidents waiting, and the
actions audit (its page and the metrics page)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet

from apps.agents.models import Agent
from apps.core.privacy import text_visible
from apps.integrations.bases.ticketing import ticketing_connected
from apps.tools.catalog import TOOLS
from apps.tools.models import AgentTool, Incident, ToolCallRecord
from apps.tools.registry import Integration, Tool


def tool_enabled_for(agent: Agent) -> dict[str, bool]:
    """Every tool the agent may use (by its declaration) and whether this tenant has it on:
    the tenant's switch when set, else the agent definition's defaults (``allowed_tools``)."""
    switches = dict(AgentTool.objects.filter(agent=agent).values_list("tool", "enabled"))
    return {
        name: switches.get(name, name in (agent.allowed_tools or []))
        for name, tool in TOOLS.items()
        if agent.slug in tool.agents
    }


def integration_connected(integration: str, *, has_chat: bool) -> bool:
    if integration == Integration.TICKETING:
        return ticketing_connected()
    if integration == Integration.CHAT:
        return has_chat
    return integration == Integration.NONE


def tools_offered(agent: Agent, *, has_chat: bool = True) -> list[Tool]:
    """What the model may call for this agent: allowed by the tool, switched on by the
    tenant, and with its integration connected. Anything else is never offered nor run."""
    connected: dict[str, bool] = {}
    offered = []
    for name, enabled in tool_enabled_for(agent).items():
        tool = TOOLS[name]
        if not enabled:
            continue
        if tool.integration not in connected:
            connected[tool.integration] = integration_connected(tool.integration, has_chat=has_chat)
        if connected[tool.integration]:
            offered.append(tool)
    return offered


# An incident the tracker keeps refusing stops being retried by itself after this many tries
# (about a week at the default interval); an admin can still retry it.
MAX_AUTOMATIC_INCIDENT_RETRIES = 1000


def incidents_waiting(*, automatic: bool = False) -> QuerySet[Incident]:
    waiting = Incident.objects.filter(status=Incident.Status.WAITING)
    if automatic:
        waiting = waiting.filter(attempts__lt=MAX_AUTOMATIC_INCIDENT_RETRIES)
    return waiting.order_by("pk")


def tool_call_list(
    *, viewer: str, agent: Agent | None = None, tool: str = "", status: str = ""
) -> QuerySet[ToolCallRecord]:
    """The audit of this tenant's tool calls, newest first (arguments as stored: masked), with
    ``text_visible``: False for a call made in a conversation private to someone other than
    ``viewer`` (its arguments and result carry that conversation's words)."""
    calls = ToolCallRecord.objects.select_related("agent").annotate(
        text_visible=text_visible(viewer=viewer, prefix="conversation__")
    )
    if agent is not None:
        calls = calls.filter(agent=agent)
    if tool:
        calls = calls.filter(tool=tool)
    if status:
        calls = calls.filter(status=status)
    return calls.order_by("-created_at", "-pk")


def incidents_waiting_shown(*, viewer: str) -> QuerySet[Incident]:
    """``incidents_waiting`` with ``text_visible`` (see ``tool_call_list``)."""
    return incidents_waiting().annotate(
        text_visible=text_visible(viewer=viewer, prefix="tool_call__conversation__")
    )


def tool_names_called() -> list[str]:
    """Every tool name the audit holds, for the page's filter."""
    return list(ToolCallRecord.objects.order_by("tool").values_list("tool", flat=True).distinct())


def tool_call_counts(*, since: datetime, agent: Agent | None = None) -> list[tuple[str, int]]:
    """(tool, calls) since ``since``, the most called first: the actions agents took, by kind."""
    calls = ToolCallRecord.objects.filter(created_at__gte=since)
    if agent is not None:
        calls = calls.filter(agent=agent)
    rows = calls.values("tool").annotate(count=Count("pk")).order_by("-count", "tool")
    return [(row["tool"], row["count"]) for row in rows]
