"""The company's home page (``/`` on its host): its agents and its latest activity, rendered
from the database, with the script that keeps it live."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.models import Conversation, Message
from apps.conversations.services import slack_question_store
from apps.tools.models import ToolCallRecord
from tests.factories import incoming_message, tenant_browser

pytestmark = pytest.mark.django_db

SECRET = "my salary is 12345"


def ask(text: str, *, ts: str, **fields) -> Message:
    incoming = incoming_message(text=text, ts=ts, event_id=f"Ev{ts}", **fields)
    return slack_question_store(incoming, thread_key=ts)


def answered(question: Message, text: str) -> Message:
    """``question`` answered by NOX with ``text`` (rows as the worker leaves them)."""
    conversation = Conversation.objects.create(
        agent=Agent.objects.get(slug="nox"),
        team_id=question.team_id,
        channel_id=question.channel_id,
        channel_type=question.channel_type,
        thread_ts=question.thread_key,
        started_by=question.slack_user_id,
    )
    question.conversation = conversation
    question.status = Message.Status.ANSWERED
    question.save()
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.ANSWERED,
        channel_id=question.channel_id,
        text=text,
        in_reply_to=question,
        answer_latency_ms=2400,
        answered_at=timezone.now(),
        sources=[{"n": 1, "cited": True}, {"n": 2, "cited": False}],
    )


def test_the_home_page_shows_the_agents_and_the_latest_activity(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        Agent.objects.filter(slug="cirrus").update(enabled=False)
        question = ask("<@U0BOT> how do I roll back?", ts="1700000000.000100")
        answered(question, "Roll back with kubectl rollout undo.")
        ToolCallRecord.objects.create(
            agent=Agent.objects.get(slug="nox"),
            tool="jira_issue_create",
            status=ToolCallRecord.Status.DONE,
            arguments={"summary": "secret argument"},
            finished_at=timezone.now(),
        )
    tenant_browser(client, tenant_a)

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    nox = re.search(r'id="agent-nox">(.*?)</tr>', page, re.S).group(1)
    cirrus = re.search(r'id="agent-cirrus">(.*?)</tr>', page, re.S).group(1)
    assert "NOX" in nox and "enabled" in nox and "llama" in nox
    assert "disabled" in cirrus
    lines = re.findall(r'<li class="activity-line" data-kind="(\w+)">', page)
    assert lines == ["tool_call", "answer", "question"]  # newest first
    assert "how do I roll back?" in page and "&lt;@U0BOT&gt;" not in page
    assert "Roll back with kubectl rollout undo." in page
    assert "2.4 s" in page and "Sources: 1" in page
    assert "jira_issue_create" in page and "secret argument" not in page


def test_a_direct_messages_text_is_not_on_the_page(client, tenant_a):
    with schema_context(tenant_a.schema_name):
        question = ask(SECRET, ts="1700000000.000200", channel_id="D0DIRECT1", channel_type="im")
        answered(question, "Your salary is 12345, as you said.")
    tenant_browser(client, tenant_a)

    page = client.get("/").content.decode()

    assert "12345" not in page
    assert page.count('<span class="activity-where">direct message</span>') == 2


def test_the_page_of_company_b_shows_nothing_of_company_a(client, tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        ask("only-in-company-a", ts="1700000000.000300")
    tenant_browser(client, tenant_b)

    page = client.get("/").content.decode()

    assert "only-in-company-a" not in page
    assert "Nothing yet" in page


def test_a_login_on_company_a_opens_nothing_on_company_bs_host(client, tenant_a, tenant_b):
    tenant_browser(client, tenant_a, set_host=False)

    response = client.get("/", HTTP_HOST=tenant_b.get_primary_domain().domain)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_live_script_is_a_file_and_its_words_come_translated_with_the_page(client, tenant_a):
    tenant_browser(client, tenant_a)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)  # CSP: no inline
    assert any("jamono/activity.js" in attributes for attributes in scripts)
    assert 'data-socket-path="/ws/activity/"' in page
    for kind in ("question", "thinking", "answer", "toolcall", "failed", "live", "reconnecting"):
        assert f"data-label-{kind}=" in page


def test_the_home_page_is_read_only(client, tenant_a):
    tenant_browser(client, tenant_a)

    assert client.post("/").status_code == 405
