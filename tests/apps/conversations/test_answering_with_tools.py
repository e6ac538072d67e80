"""Answers that act: the model is offered the agent's tools (only those switched on and whose
integration is connected), its calls are checked, run, audited and fed back, and the answer
says what was done. The LLM is the Ollama double answering with scripted tool calls; Jira is
the Jira REST double driven by the real ``jira`` client; Slack is the Slack double."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import connection

from apps.agents.models import Agent
from apps.conversations.answering import answer_generate
from apps.conversations.models import Message
from apps.conversations.services import slack_question_store
from apps.tools.models import Incident, ProbeAllowedHost, ToolCallRecord
from apps.tools.services import agent_tool_set, incidents_retry
from apps.votes.services import approval_policy_set
from tests.doubles.base import ProtocolDouble, Reply
from tests.factories import SlackWorkspaceFactory, incoming_message, slack_token

CHANNEL = "C0ACTIONS1"
ROOT_TS = "1700000100.000100"
NOX_DEFAULT_WITHOUT_JIRA = {
    "postmortem_schedule",
    "http_probe",
    "dns_lookup",
    "tls_certificate_check",
}


@pytest.fixture
def workspace(tenant_a, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    settings.TOOL_RETRY_BACKOFF_S = 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token, bot_user_id="U0BOTACT1")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTACT1")
    slack_double.add_user("U0ALICE", email="alice@acme.test", tz="Europe/Paris", real_name="Alice")
    slack_double.add_user("U0BOB", email="bob@acme.test", tz="America/New_York", real_name="Bob")
    connection.set_tenant(tenant_a)
    # Writes run at once here (no vote): the votes' own tests are in tests/apps/votes/.
    approval_policy_set(
        target="write",
        rule="none",
        voters=[],
        weights={},
        quorum=0,
        expires_in=timedelta(minutes=30),
        counts_advisory=False,
    )
    return workspace


def ask(workspace, text, *, user="U0ALICE", ts="1700000200.000100"):
    incoming = incoming_message(
        team_id=workspace.team_id,
        channel_id=CHANNEL,
        text=text,
        ts=ts,
        thread_ts=ROOT_TS,
        user_id=user,
    )
    return slack_question_store(incoming, thread_key=ROOT_TS)


def offered_in(request) -> set[str]:
    return {tool["function"]["name"] for tool in request.json.get("tools") or []}


def final_message(slack_double) -> str:
    updates = slack_double.calls("chat.update")
    return json.dumps(updates[-1]["blocks"], ensure_ascii=False)


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def tomorrow_at_14_paris() -> datetime:
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))


# --- acceptance 1: a ticket and a post-mortem from one message --------------------------------


def test_an_outage_message_opens_one_ticket_and_uploads_one_invitation(
    workspace, jira_tenant, jira_double, ollama_double, slack_double
):
    start = tomorrow_at_14_paris()
    ollama_double.script_replies(
        [
            "Checking: 502s from the payments API since 10:05.",
            [
                {
                    "name": "jira_create_issue",
                    "arguments": {
                        "summary": "Payments API down since 10:05",
                        "description": "The payments API has been down since 10:05.",
                        "priority": "High",
                    },
                }
            ],
            [
                {
                    "name": "postmortem_schedule",
                    "arguments": {
                        "title": "Post-mortem: payments API outage",
                        "start": start.strftime("%Y-%m-%dT%H:%M"),
                        "attendees": ["sre-lead@acme.test"],
                        "jira_key": "PAY-1",
                    },
                }
            ],
            "I opened PAY-1 and invited everyone to the post-mortem tomorrow at 14:00.",
        ]
    )
    # Bob started the thread; he is invited as one of its participants.
    bob = ask(workspace, "payments API returns 502", user="U0BOB", ts=ROOT_TS)
    answer_generate(question_id=bob.pk)
    question = ask(
        workspace,
        "the payments API is down since 10:05, open a ticket and set up a post-mortem "
        "tomorrow at 14:00",
    )

    answer = answer_generate(question_id=question.pk)

    assert len(jira_double.issues) == 1
    issue = jira_double.issues[0]
    assert issue["key"] == "PAY-1"
    assert "slack.com/archives/" + CHANNEL in issue["fields"]["description"]
    files = slack_double.files(CHANNEL)
    assert len(files) == 1
    event = next(iter(icalendar.Calendar.from_ical(files[0]["content"]).walk("VEVENT")))
    assert event["DTSTART"].dt == start and event["DTSTART"].params["TZID"] == "Europe/Paris"
    attendees = {str(a).removeprefix("mailto:") for a in listed(event.get("ATTENDEE"))}
    assert attendees == {"bob@acme.test", "sre-lead@acme.test"}
    assert "PAY-1" in str(event["DESCRIPTION"])
    shown = final_message(slack_double)
    assert "PAY-1" in shown and f"{jira_double.url}/browse/PAY-1" in shown
    answer.refresh_from_db()
    assert answer.status == Message.Status.ANSWERED and "PAY-1" in answer.text
    audit = ToolCallRecord.objects.filter(question=question).order_by("pk")
    assert [(r.tool, r.status) for r in audit] == [
        ("jira_create_issue", ToolCallRecord.Status.DONE),
        ("postmortem_schedule", ToolCallRecord.Status.DONE),
    ]
    assert audit[0].requested_by == "U0ALICE" and audit[0].agent.slug == "nox"
    # The tool results went back to the model as "tool" messages.
    second = ollama_double.requests_to("/api/chat")[2].json["messages"]
    assert second[-1]["role"] == "tool" and "PAY-1" in second[-1]["content"]


# --- acceptance 2: only enabled, connected tools are offered; bad calls are refused ------------


def test_only_tools_switched_on_and_connected_are_offered(workspace, ollama_double):
    ollama_double.script_replies(["Nothing to do."])
    nox = Agent.objects.get(slug="nox")
    agent_tool_set(nox, "http_probe", enabled=False)

    answer_generate(question_id=ask(workspace, "is the API up?").pk)

    offered = offered_in(ollama_double.requests_to("/api/chat")[0])
    assert offered == NOX_DEFAULT_WITHOUT_JIRA - {"http_probe"}  # no Jira connected


def test_jira_tools_are_offered_once_jira_is_connected(workspace, jira_tenant, ollama_double):
    ollama_double.script_replies(["ok"])

    answer_generate(question_id=ask(workspace, "anything open?").pk)

    offered = offered_in(ollama_double.requests_to("/api/chat")[0])
    assert {"jira_create_issue", "jira_search_issues", "jira_add_comment"} <= offered


def test_a_call_to_a_tool_not_offered_is_refused_and_never_runs(
    workspace, ollama_double, slack_double
):
    probed = CountingServer().start()
    try:
        ProbeAllowedHost.objects.create(pattern=f"127.0.0.1:{probed.port}")
        agent_tool_set(Agent.objects.get(slug="nox"), "http_probe", enabled=False)
        ollama_double.script_replies(
            [
                [{"name": "http_probe", "arguments": {"url": f"{probed.url}/health"}}],
                "I cannot probe it.",
            ]
        )

        answer_generate(question_id=ask(workspace, "probe the API").pk)

        assert probed.requests == []
        assert not ToolCallRecord.objects.filter(status=ToolCallRecord.Status.DONE).exists()
        refusal = ollama_double.requests_to("/api/chat")[1].json["messages"][-1]
        assert refusal["role"] == "tool" and "no tool named “http_probe”" in refusal["content"]
        assert "Could not use http_probe" in final_message(slack_double)
    finally:
        probed.stop()


def test_wrong_arguments_are_refused_with_the_reason_fed_back_once(
    workspace, ollama_double, slack_double
):
    ollama_double.script_replies(
        [
            [{"name": "dns_lookup", "arguments": {"type": "A"}}],  # no name
            "Sorry, which host?",
        ]
    )

    answer = answer_generate(question_id=ask(workspace, "resolve it").pk)

    fed_back = ollama_double.requests_to("/api/chat")[1].json["messages"][-1]
    assert fed_back["role"] == "tool" and "'name' is a required property" in fed_back["content"]
    assert "Could not use dns_lookup" in final_message(slack_double)
    answer.refresh_from_db()
    assert answer.text == "Sorry, which host?"
    record = ToolCallRecord.objects.get(tool="dns_lookup")
    assert record.status == ToolCallRecord.Status.REFUSED


def test_a_model_that_keeps_making_bad_calls_is_stopped_and_the_person_told(
    workspace, ollama_double, slack_double
):
    ollama_double.script_replies(
        [
            [{"name": "rm_rf", "arguments": {"path": "/"}}],
            [{"name": "dns_lookup", "arguments": {"name": 42}}],
            "never asked for",
        ]
    )

    answer_generate(question_id=ask(workspace, "clean up").pk)

    assert len(ollama_double.requests_to("/api/chat")) == 2
    shown = final_message(slack_double)
    assert "Could not use rm_rf" in shown and "Could not use dns_lookup" in shown
    assert "never asked for" not in shown


def test_the_same_call_is_never_run_twice(workspace, ollama_double):
    probed = CountingServer().start()
    try:
        ProbeAllowedHost.objects.create(pattern=f"127.0.0.1:{probed.port}")
        call = [{"name": "http_probe", "arguments": {"url": f"{probed.url}/health"}}]
        ollama_double.script_replies([call, call, "It answers 200."])

        answer_generate(question_id=ask(workspace, "is it up?").pk)

        assert len(probed.requests) == 1
        repeated = ollama_double.requests_to("/api/chat")[2].json["messages"][-1]
        assert "already made" in repeated["content"]
    finally:
        probed.stop()


def test_a_model_without_tool_support_acts_through_the_json_fallback(
    workspace, ollama_double, settings
):
    ollama_double.models.append("gemma2:9b")
    Agent.objects.filter(slug="nox").update(model="gemma2:9b")
    probed = CountingServer().start()
    try:
        ProbeAllowedHost.objects.create(pattern=f"127.0.0.1:{probed.port}")
        ollama_double.script_replies(
            [
                [{"name": "http_probe", "arguments": {"url": f"{probed.url}/health"}}],
                "It answers 200.",
            ]
        )

        answer = answer_generate(question_id=ask(workspace, "is it up?").pk)

        first = ollama_double.requests_to("/api/chat")[0].json
        assert not first.get("tools") and isinstance(first["format"], dict)
        assert len(probed.requests) == 1
        answer.refresh_from_db()
        assert answer.text == "It answers 200."
    finally:
        probed.stop()


# --- acceptance 3: Jira refusing a ticket ------------------------------------------------------


def test_a_ticket_jira_refuses_becomes_an_incident_created_once_the_field_is_mapped(
    workspace, jira_tenant, jira_double, ollama_double, slack_double
):
    jira_double.require_field("customfield_10042", "Team", allowed=["Payments", "Search"])
    ollama_double.script_replies(
        [
            [
                {
                    "name": "jira_create_issue",
                    "arguments": {"summary": "Payments API down", "description": "Since 10:05"},
                }
            ],
            "Jira refused it; I kept it as an incident.",
        ]
    )

    answer_generate(question_id=ask(workspace, "open a ticket for the outage").pk)

    assert jira_double.issues == []
    incident = Incident.objects.get()
    assert incident.status == Incident.Status.WAITING and incident.missing_fields == ["Team"]
    shown = final_message(slack_double)
    assert "“Team”" in shown and f"#{incident.pk}" in shown
    assert incidents_retry() == {"ticketed": 0, "waiting": 1}  # still not mapped

    from apps.integrations.jira.services import jira_connect

    jira_connect(
        url=jira_double.url,
        email=jira_double.email,
        api_token=jira_double.api_token,
        project_key="PAY",
        fields={"Team": "Payments"},
    )
    assert incidents_retry() == {"ticketed": 1, "waiting": 0}
    assert incidents_retry() == {"ticketed": 0, "waiting": 0}

    assert len(jira_double.issues) == 1
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TICKETED and incident.ticket_key == "PAY-1"
    record = incident.tool_call
    record.refresh_from_db()
    assert record.status == ToolCallRecord.Status.DONE and record.result["key"] == "PAY-1"
    told = slack_double.calls("chat.postMessage")[-1]
    assert "PAY-1" in told["text"] and f"#{incident.pk}" in told["text"]


def test_jira_503_once_then_201_makes_exactly_one_issue(
    workspace, jira_tenant, jira_double, ollama_double
):
    jira_double.fail_next(1, status=503, path="/rest/api/2/issue")
    ollama_double.script_replies(
        [
            [{"name": "jira_create_issue", "arguments": {"summary": "Down", "description": "x"}}],
            "Opened.",
        ]
    )

    answer_generate(question_id=ask(workspace, "open a ticket").pk)

    assert len(jira_double.issues) == 1
    assert ToolCallRecord.objects.get(tool="jira_create_issue").status == "done"


# --- a local endpoint that counts what reaches it ----------------------------------------------


class CountingServer(ProtocolDouble):
    def handle(self, request):
        return Reply.json({"status": "ok"})

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])
