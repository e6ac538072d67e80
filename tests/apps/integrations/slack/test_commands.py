"""Slash commands answered in-process: real figures from the tenant's own rows, in the
tenant's language."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.models import Conversation, Message
from tests.doubles.slack_requests import signed_headers, slash_command_form
from tests.factories import SlackWorkspaceFactory, tenant_make

SECRET = "commands-signing-secret"


@pytest.fixture
def workspace(tenant_a, settings, ollama_double):
    settings.SLACK_SIGNING_SECRET = SECRET
    return SlackWorkspaceFactory(tenant=tenant_a)


def command(client, workspace, name):
    body = slash_command_form(workspace.team_id, name)
    response = client.post(
        "/slack/events",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body, SECRET),
    )
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    return reply


def fields_of(reply) -> dict[str, str]:
    return {
        field["text"].split("\n")[0].strip("*"): field["text"].split("\n")[1]
        for block in reply["blocks"]
        if "fields" in block
        for field in block["fields"]
    }


def answered(agent, *, latency_ms, hours_ago, channel):
    conversation = Conversation.objects.create(
        agent=agent, team_id="T", channel_id=channel, channel_type="channel", thread_ts="1.1"
    )
    Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.ANSWERED,
        channel_id=channel,
        text="answer",
        answer_latency_ms=latency_ms,
        answered_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def test_metrics_report_this_tenants_answers_per_window(client, workspace):
    with schema_context(workspace.tenant.schema_name):
        nox = Agent.objects.get(slug="nox")
        answered(nox, latency_ms=1000, hours_ago=1, channel="C1")
        answered(nox, latency_ms=3000, hours_ago=2, channel="C2")
        answered(nox, latency_ms=9000, hours_ago=72, channel="C3")
    other = tenant_make()
    with schema_context(other.schema_name):
        answered(Agent.objects.get(slug="nox"), latency_ms=50, hours_ago=1, channel="C9")

    fields = fields_of(command(client, workspace, "/nox-metrics"))

    assert fields["Questions answered, last 24 h"] == "2"
    assert fields["Median answer time, last 24 h"] == "2.0 s"
    assert fields["Questions answered, last 7 days"] == "3"
    assert fields["Median answer time, last 7 days"] == "3.0 s"
    assert fields["Actions taken, last 24 h"] == "0"


def test_status_reports_model_reachability_and_last_answer(client, workspace, ollama_double):
    fields = fields_of(command(client, workspace, "/atlas-status"))

    assert fields["Agent"] == "enabled"
    assert fields["Model"] == "llama3.1:8b"
    assert fields["Language model"] == "reachable"
    assert fields["Last answer"] == "never"
    assert fields["Questions in line"] == "0"


def test_status_counts_this_tenants_questions_in_line_only(client, workspace):
    from apps.conversations.services import slack_question_store
    from tests.factories import incoming_message

    other = tenant_make()
    for tenant, count in ((workspace.tenant, 2), (other, 3)):
        with schema_context(tenant.schema_name):
            for n in range(count):
                slack_question_store(
                    incoming_message(ts=f"170000000{n}.000100"), thread_key=f"170000000{n}.0"
                )

    fields = fields_of(command(client, workspace, "/nox-status"))

    assert fields["Questions in line"] == "2"


def test_status_says_when_the_model_is_unreachable(client, workspace, settings, closed_port_url):
    settings.OLLAMA_HOST = closed_port_url
    fields = fields_of(command(client, workspace, "/cirrus-status"))
    assert fields["Language model"].startswith("unreachable")


def test_help_lists_the_agents_commands_and_examples(client, workspace):
    reply = command(client, workspace, "/cirrus-help")
    text = reply["blocks"][0]["text"]["text"]
    assert "CIRRUS — Systems administrator" in text
    for verb in ("status", "help", "metrics"):
        assert f"/cirrus-{verb}" in text
    assert "/var partition" in text


def test_a_disabled_agent_says_so(client, workspace):
    with schema_context(workspace.tenant.schema_name):
        Agent.objects.filter(slug="atlas").update(enabled=False)
    reply = command(client, workspace, "/atlas-help")
    assert "ATLAS is disabled in this workspace" in reply["text"]


def test_a_french_tenant_gets_french_replies(client, db, settings, ollama_double):
    settings.SLACK_SIGNING_SECRET = SECRET
    tenant = tenant_make()
    tenant.language = "fr"
    tenant.save(update_fields=["language"])
    workspace = SlackWorkspaceFactory(tenant=tenant)

    fields = fields_of(command(client, workspace, "/nox-status"))

    assert fields["Modèle de langage"] == "joignable"
    assert "Dernière réponse" in fields


def test_a_command_whose_text_says_payload_is_still_answered(client, workspace):
    """Parsed once, by Jamono: slack_bolt's own form parser (1.30) reads any form with
    "payload" in it as an empty interactivity payload, and the command would get no reply."""
    body = slash_command_form(workspace.team_id, "/nox-help", text="what payload limit?")
    response = client.post(
        "/slack/events",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body, SECRET),
    )

    assert response.status_code == 200
    assert "NOX" in json.dumps(response.json()["blocks"])
