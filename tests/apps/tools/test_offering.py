"""Which tools the model is offered: declared for the agent, switched on by the tenant, and
with their integration connected; and every agent definition names real tools."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.agents.definitions import agent_definitions_load
from apps.agents.models import Agent
from apps.conversations.selectors import agent_metrics
from apps.tools.catalog import TOOLS
from apps.tools.models import ToolCallRecord
from apps.tools.selectors import tools_offered
from apps.tools.services import agent_tool_set


def names(tools) -> set[str]:
    return {tool.name for tool in tools}


def test_every_tool_an_agent_definition_names_exists_and_allows_that_agent():
    for definition in agent_definitions_load():
        for name in definition.allowed_tools:
            assert name in TOOLS, f"{definition.slug}: {name}"
            assert definition.slug in TOOLS[name].agents


def test_jira_tools_need_jira_connected_and_chat_tools_a_thread(tenant_a):
    with schema_context(tenant_a.schema_name):
        nox = Agent.objects.get(slug="nox")
        offered = names(tools_offered(nox))
        without_chat = names(tools_offered(nox, has_chat=False))

    assert not any(name.startswith("jira_") for name in offered)
    assert "postmortem_schedule" in offered and "postmortem_schedule" not in without_chat


def test_jira_tools_are_offered_once_connected(jira_tenant):
    nox = Agent.objects.get(slug="nox")

    assert {"jira_create_issue", "jira_search_issues"} <= names(tools_offered(nox))


def test_a_tool_switched_off_is_not_offered_and_one_switched_on_is(tenant_a):
    with schema_context(tenant_a.schema_name):
        atlas = Agent.objects.get(slug="atlas")
        before = names(tools_offered(atlas))
        agent_tool_set(atlas, "dns_lookup", enabled=False)
        agent_tool_set(atlas, "postmortem_schedule", enabled=True)
        after = names(tools_offered(atlas))

    assert "dns_lookup" in before and "dns_lookup" not in after
    assert "postmortem_schedule" not in before and "postmortem_schedule" in after


def test_metrics_count_the_actions_done(tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    with schema_context(tenant_a.schema_name):
        nox = Agent.objects.get(slug="nox")
        for status in ("done", "done", "refused", "waiting"):
            ToolCallRecord.objects.create(agent=nox, tool="http_probe", risk="read", status=status)
        metrics = agent_metrics(agent=nox, since=timezone.now() - timedelta(days=1))

    assert metrics.actions_taken == 2
