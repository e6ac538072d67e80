"""Answers grounded in the tenant's knowledge: the runbook chunk is in the prompt, and the
Slack answer names it under Sources; with nothing relevant, the agent is told to say so."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.conversations.answering import answer_generate
from apps.conversations.services import slack_question_store
from apps.integrations.bases.chat import IncomingMessage
from apps.knowledge.models import Document
from apps.knowledge.services import document_embed, document_ingest
from tests.factories import SlackWorkspaceFactory, slack_token

RUNBOOK = b"""# Payments deploy runbook

## Rollback

If payments-api fails with ImagePullBackOff, run
`kubectl rollout undo deployment/payments-api -n payments`.
"""


@pytest.fixture
def workspace(tenant_a, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=workspace.bot_user_id)
    with schema_context(tenant_a.schema_name):
        Document.objects.all().delete()  # only what this test uploads
        yield workspace


def ask(workspace, text):
    return slack_question_store(
        IncomingMessage(
            team_id=workspace.team_id, event_id=f"Ev{abs(hash(text))}", channel_id="C0GROUND1",
            channel_type="channel", user_id="U0PERSON1", text=text, ts="1700000000.000100",
            thread_ts=None,
        ),
        thread_key="1700000000.000100",
    )  # fmt: skip


def test_an_answer_from_an_uploaded_runbook_cites_it(workspace, slack_double, ollama_double):
    document_ingest(key="payments.md", name="payments.md", data=RUNBOOK, source="upload")
    document_embed(Document.objects.get(key="payments.md"))
    question = ask(workspace, "payments-api is stuck in ImagePullBackOff, how do I roll back?")

    answer = answer_generate(question_id=question.pk)

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "[1] Payments deploy runbook › Rollback" in system_prompt
    assert "kubectl rollout undo deployment/payments-api -n payments" in system_prompt
    final_blocks = json.dumps(slack_double.calls("chat.update")[-1]["blocks"], ensure_ascii=False)
    assert "Sources: [1] <http://" in final_blocks
    assert "/knowledge/" in final_blocks and "|Payments deploy runbook › Rollback>" in final_blocks
    assert answer.sources[0]["title"] == "Payments deploy runbook"


def test_with_nothing_relevant_the_agent_is_told_to_say_so(workspace, slack_double, ollama_double):
    question = ask(workspace, "what is the capital of Mongolia?")

    answer_generate(question_id=question.pk)

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "Nothing in the company's knowledge base matches this question" in system_prompt
    final_blocks = json.dumps(slack_double.calls("chat.update")[-1]["blocks"], ensure_ascii=False)
    assert "No matching document in your knowledge base." in final_blocks


def test_another_tenants_runbook_is_never_cited(workspace, tenant_b, slack_double, ollama_double):
    with schema_context(tenant_b.schema_name):
        document_ingest(key="payments.md", name="payments.md", data=RUNBOOK, source="upload")
        document_embed(Document.objects.get(key="payments.md"))
    question = ask(workspace, "payments-api is stuck in ImagePullBackOff")

    answer_generate(question_id=question.pk)

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "kubectl rollout undo deployment/payments-api" not in system_prompt
