"""The set-up wizard on a company's own site: steps done from the company's state, skipped
and resumed, agents and tools chosen (checked, by people allowed to), then what to type."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.tools.models import AgentTool
from tests.factories import SlackWorkspaceFactory, tenant_browser


def agents_form(**overrides) -> dict:
    """Every agent on, each tool as given; ``overrides`` sets or removes (None) fields."""
    data = {
        "agent-nox": "on",
        "agent-atlas": "on",
        "agent-cirrus": "on",
        "tool-nox-dns_lookup": "on",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_the_overview_starts_at_slack_and_marks_a_connected_workspace_done(client, tenant_a):
    client = tenant_browser(client, tenant_a)

    first = client.get("/setup/").content.decode()
    SlackWorkspaceFactory(tenant=tenant_a, team_name="Acme Ops")
    second = client.get("/setup/").content.decode()

    assert 'class="button" href="/setup/slack/"' in first
    assert 'data-step="slack"' in first and "done</span>" not in first
    assert 'class="done" data-step="slack"' in second
    assert 'class="button" href="/setup/jira/"' in second  # resumes at the next step


def test_skipped_steps_are_left_for_later_and_the_wizard_resumes_after_them(client, tenant_a):
    client = tenant_browser(client, tenant_a)

    after_slack = client.post("/setup/skip/slack/")
    after_jira = client.post("/setup/skip/jira/")
    overview = client.get("/setup/").content.decode()

    assert after_slack.status_code == 302 and after_slack["Location"] == "/setup/jira/"
    assert after_jira["Location"] == "/setup/agents/"
    assert 'class="skipped" data-step="slack"' in overview
    assert 'class="button" href="/setup/agents/"' in overview
    assert client.post("/setup/skip/nonsense/").status_code == 404
    assert client.get("/setup/skip/slack/").status_code == 405


def test_choosing_agents_and_tools_saves_them_and_leads_to_the_closing_page(client, tenant_a):
    client = tenant_browser(client, tenant_a)

    response = client.post(
        "/setup/agents/",
        agents_form(**{"agent-atlas": None, "tool-nox-rm_rf": "on"}),
    )

    assert response.status_code == 302 and response["Location"] == "/setup/done/"
    with schema_context(tenant_a.schema_name):
        enabled = dict(Agent.objects.values_list("slug", "enabled"))
        switches = dict(AgentTool.objects.filter(agent__slug="nox").values_list("tool", "enabled"))
    assert enabled == {"nox": True, "atlas": False, "cirrus": True}
    assert switches["dns_lookup"] is True and switches["http_probe"] is False
    assert "rm_rf" not in switches  # a field the form did not offer sets nothing
    done = client.get("/setup/done/").content.decode()
    assert "/nox-help" in done and "/cirrus-status" in done and "/atlas-help" not in done
    assert 'href="/chat/nox/"' in done


def test_switching_every_agent_off_is_refused_and_changes_nothing(client, tenant_a):
    client = tenant_browser(client, tenant_a)

    response = client.post(
        "/setup/agents/",
        agents_form(**{"agent-nox": None, "agent-atlas": None, "agent-cirrus": None}),
    )

    assert response.status_code == 400
    assert "Keep at least one agent" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Agent.objects.filter(enabled=True).count() == 3


def test_people_without_the_permissions_read_the_choices_but_cannot_make_them(client, tenant_a):
    client = tenant_browser(client, tenant_a, superuser=False, permissions=("view_agent",))

    page = client.get("/setup/agents/")
    response = client.post("/setup/agents/", agents_form(**{"agent-nox": None}))

    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert "Save and continue" not in page.content.decode()
    assert response.status_code == 403
    with schema_context(tenant_a.schema_name):
        assert Agent.objects.get(slug="nox").enabled is True


@pytest.mark.parametrize("path", ["/setup/", "/setup/agents/", "/setup/done/"])
def test_a_login_on_one_company_opens_no_set_up_page_of_another(client, tenant_a, tenant_b, path):
    client = tenant_browser(client, tenant_a)
    assert client.get(path).status_code == 200

    other = client.get(path, HTTP_HOST=tenant_b.get_primary_domain().domain)
    posted = client.post(
        "/setup/agents/",
        agents_form(**{"agent-nox": None}),
        HTTP_HOST=tenant_b.get_primary_domain().domain,
    )

    assert other.status_code == 302 and "login" in other["Location"]
    assert posted.status_code == 302 and "login" in posted["Location"]
    with schema_context(tenant_b.schema_name):
        assert Agent.objects.get(slug="nox").enabled is True


def test_the_slack_and_jira_pages_offer_to_skip_and_go_on(client, tenant_a):
    client = tenant_browser(client, tenant_a)

    slack = client.get("/setup/slack/").content.decode()
    jira = client.get("/setup/jira/").content.decode()

    assert 'action="/setup/skip/slack/"' in slack and 'href="/setup/jira/"' in slack
    assert 'action="/setup/skip/jira/"' in jira and 'href="/setup/agents/"' in jira
