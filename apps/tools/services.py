"""Writes about tools: the tenant's per-agent switches, and incidents retried until the
tracker takes them."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.integrations.bases.chat import (
    ChatPostError,
    ChatThread,
    ChatUnavailable,
    OutgoingMessage,
    chat_for_team,
)
from apps.integrations.bases.ticketing import (
    TicketingError,
    TicketingRefused,
    TicketingUnavailable,
    ticketing_for_tenant,
)
from apps.tools.catalog import TOOLS
from apps.tools.models import AgentTool, Incident, ToolCallRecord
from apps.tools.selectors import incidents_waiting

logger = logging.getLogger(__name__)


def agent_tools_sync() -> int:
    """One switch per agent and tool it may use, so the admin lists them all; new switches
    start as the agent definition says (``allowed_tools``). Idempotent; returns how many
    were added. A tool an agent's definition names that does not exist is an error."""
    added = 0
    for agent in Agent.objects.all():
        unknown = set(agent.allowed_tools or []) - set(TOOLS)
        if unknown:
            raise ValueError(f"agent {agent.slug}: unknown tools {sorted(unknown)}")
        for name, tool in TOOLS.items():
            if agent.slug not in tool.agents:
                continue
            _switch, created = AgentTool.objects.get_or_create(
                agent=agent, tool=name, defaults={"enabled": name in agent.allowed_tools}
            )
            added += created
    return added


def agent_tool_set(agent: Agent, tool: str, *, enabled: bool) -> AgentTool:
    if tool not in TOOLS or agent.slug not in TOOLS[tool].agents:
        raise ValueError(f"{agent.name} cannot use a tool named {tool!r}")
    switch, _created = AgentTool.objects.update_or_create(
        agent=agent, tool=tool, defaults={"enabled": enabled}
    )
    return switch


def incidents_retry() -> dict[str, int]:
    """Try again every incident waiting for the tracker (same idempotency key: a ticket the
    tracker made on an earlier try is found, not made twice). Returns counts by result."""
    counts = {"ticketed": 0, "waiting": 0}
    for incident_id in list(incidents_waiting(automatic=True).values_list("pk", flat=True)):
        counts["ticketed" if incident_retry(incident_id) else "waiting"] += 1
    return counts


def incident_retry(incident_id: int) -> bool:
    """One try; True when the incident now has its ticket (and the thread is told)."""
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=incident_id, status=Incident.Status.WAITING)
            .select_related("tool_call", "tool_call__conversation")
            .first()
        )
        if incident is None:
            return False
        incident.attempts += 1
        try:
            ref = ticketing_for_tenant().issue_create(
                summary=incident.summary,
                description=incident.description,
                idempotency_key=incident.idempotency_key,
                project=incident.project or None,
                issue_type=incident.issue_type or None,
                priority=incident.priority or None,
            )
        except TicketingError as exc:
            incident.last_error = str(exc)[:2000]
            if isinstance(exc, TicketingRefused):
                incident.missing_fields = [field.name for field in exc.missing_fields]
            elif not isinstance(exc, TicketingUnavailable):
                logger.warning("Incident %s still not ticketed: %s", incident.pk, exc)
            incident.save()
            return False
        incident.status = Incident.Status.TICKETED
        incident.ticket_key = ref.key
        incident.ticket_url = ref.url
        incident.last_error = ""
        incident.save()
        record = incident.tool_call
        record.status = ToolCallRecord.Status.DONE
        record.result = {"key": ref.key, "url": ref.url, "incident": incident.pk}
        record.summary = (_("Created Jira issue %(key)s") % {"key": ref.key})[:300]
        record.error = ""
        record.finished_at = timezone.now()
        record.save()
    _thread_tell(incident, ref.key, ref.url)
    return True


def _thread_tell(incident: Incident, key: str, url: str) -> None:
    conversation = incident.tool_call.conversation
    if conversation is None:
        return
    thread = ChatThread(
        channel=conversation.channel_id,
        thread_ts=conversation.thread_ts or None,
        team_id=conversation.team_id,
        is_direct=conversation.channel_type == "im",
    )
    text = _("Incident #%(number)s is now in Jira: [%(key)s](%(url)s)") % {
        "number": incident.pk,
        "url": url,
        "key": key,
    }
    try:
        chat_for_team(conversation.team_id).post(thread, OutgoingMessage(text=text))
    except (ChatPostError, ChatUnavailable) as exc:
        logger.warning("Could not tell the thread about incident %s: %s", incident.pk, exc)
