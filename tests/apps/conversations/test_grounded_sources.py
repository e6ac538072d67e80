"""Grounded answers that hold: the document whose symptoms match goes in the prompt whole (its
fix with it), the Sources line shows what the answer cites, the prompt fits the agent's
context and the request says how big it is."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.answering import answer_generate
from apps.conversations.prompting import cited_numbers, prompt_build, tokens_estimate
from apps.conversations.services import slack_question_store
from apps.integrations.bases.chat import IncomingMessage
from apps.knowledge.context import ContextSource
from apps.knowledge.models import Document
from apps.knowledge.services import document_embed, document_ingest
from tests.factories import SlackWorkspaceFactory, slack_token

QUEUE_RUNBOOK = b"""# Parcel scan consumer lag

Service: scan-ingest. Owner: #team-tracking.

## Symptoms

Alert ScanConsumerLagHigh fires; parcels show "in transit" for hours; the lag dashboard climbs.

## Diagnosis

Check the consumer group: most partitions are being reassigned every few seconds.

## Fix

Set `session.timeout.ms=45000` on scan-ingest and restart it with
`kubectl rollout restart deploy/scan-ingest -n tracking`. Codename BLUE HERON.
"""
CERT_RUNBOOK = b"""# Ingress certificate expiry

## Symptoms

Browsers warn NET::ERR_CERT_DATE_INVALID on track.northwind.test.

## Fix

Renew with `certbot renew --cert-name track` and reload the ingress.
"""


@pytest.fixture
def workspace(tenant_a, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=workspace.bot_user_id)
    with schema_context(tenant_a.schema_name):
        Document.objects.all().delete()
        for key, data in (("scan-lag.md", QUEUE_RUNBOOK), ("cert.md", CERT_RUNBOOK)):
            document_ingest(key=key, name=key, data=data, source="upload")
            document_embed(Document.objects.get(key=key))
        yield workspace


def ask(workspace, text, ts="1700000000.000100"):
    return slack_question_store(
        IncomingMessage(
            team_id=workspace.team_id, event_id=f"Ev{abs(hash(text))}{ts}", channel_id="C0SRC0001",
            channel_type="channel", user_id="U0PERSON1", text=text, ts=ts, thread_ts=None,
        ),
        thread_key=ts,
    )  # fmt: skip


def final_blocks(slack_double) -> str:
    return json.dumps(slack_double.calls("chat.update")[-1]["blocks"], ensure_ascii=False)


def test_a_symptom_question_gets_the_whole_runbook_with_its_fix(workspace, ollama_double):
    answer_generate(question_id=ask(workspace, "ScanConsumerLagHigh is firing, parcels stuck").pk)

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "[1] Parcel scan consumer lag" in system_prompt
    assert "session.timeout.ms=45000" in system_prompt  # the Fix, not only the Symptoms
    assert "BLUE HERON" in system_prompt
    assert system_prompt.count("[1] Parcel scan consumer lag") == 1  # one source per document


def test_the_sources_line_shows_only_the_cited_documents(
    workspace, ollama_double, slack_double, settings
):
    # Both runbooks in the prompt, whatever they score: this is about what is shown.
    settings.KNOWLEDGE_RELATIVE_CUTOFF = settings.KNOWLEDGE_MIN_SCORE = 0.0
    ollama_double.reply_text = "Do what source two says [2]."
    question = ask(workspace, "ScanConsumerLagHigh fires and NET::ERR_CERT_DATE_INVALID on track")

    answer = answer_generate(question_id=question.pk)

    answer.refresh_from_db()
    assert [s["cited"] for s in answer.sources] == [False, True]  # both in the prompt
    first, second = (s["heading"] for s in answer.sources)
    shown = final_blocks(slack_double).split("Sources:")[1]
    assert " [2] <http://" in shown and f"|{second}>" in shown and first not in shown


def test_an_answer_that_cites_nothing_shows_its_top_source(
    workspace, ollama_double, slack_double, settings
):
    ollama_double.reply_text = "Restart the consumer."

    answer_generate(question_id=ask(workspace, "ScanConsumerLagHigh alert firing").pk)

    shown = final_blocks(slack_double)
    document = Document.objects.get(key="scan-lag.md")
    site = f"http://{workspace.tenant.get_primary_domain().domain}:{settings.PORT}"
    # The source links to the document's page on the company's site.
    assert f"Sources: [1] <{site}/knowledge/{document.pk}/|Parcel scan consumer lag>" in shown


def test_slack_markup_is_taken_out_of_the_search(workspace, ollama_double):
    text = (
        "<@U0BOT0001> <!here> <https://grafana.test/d/1|ScanConsumerLagHigh> parcels in "
        "<#C0OPS|transit>"
    )

    answer_generate(question_id=ask(workspace, text).pk)

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "[1] Parcel scan consumer lag" in system_prompt
    embedded = ollama_double.requests_to("/api/embed")[-1].json["input"]
    assert embedded == ["ScanConsumerLagHigh parcels in transit"]


def test_a_question_nothing_answers_says_so_without_a_sources_line(
    workspace, ollama_double, slack_double
):
    answer_generate(question_id=ask(workspace, "what is the capital of Mongolia?").pk)

    shown = final_blocks(slack_double)
    assert "No matching document in your knowledge base." in shown
    assert "Sources:" not in shown


def test_the_request_carries_the_agents_context_size(workspace, ollama_double):
    Agent.objects.filter(slug="nox").update(context_size=4096)

    answer_generate(question_id=ask(workspace, "ScanConsumerLagHigh").pk)

    for request in ollama_double.requests_to("/api/chat"):
        assert request.json["options"]["num_ctx"] == 4096


def test_a_small_context_keeps_the_system_prompt_question_and_top_source_whole(workspace):
    nox = Agent.objects.get(slug="nox")
    nox.context_size = 4096
    big = "Check the disks of every ingest node one by one. " * 400  # ~20 000 characters
    sources = [
        ContextSource(kind="document", title="Scan lag", section="Fix", text="Set X=1. " * 60,
                      score=0.9, chunk_ids=(1,)),
        ContextSource(kind="document", title="Huge", section="Fix", text=big, score=0.5,
                      chunk_ids=(2,)),
        ContextSource(kind="document", title="Cert", section="Fix", text="certbot renew",
                      score=0.4, chunk_ids=(3,)),
    ]  # fmt: skip
    question = ask(workspace, "ScanConsumerLagHigh " * 20)

    prompt = prompt_build(agent=nox, question=question, knowledge=sources)

    system = prompt.messages[0].content
    assert nox.persona in system
    assert prompt.messages[-1].content == question.text
    assert "[1] Scan lag › Fix\n" + "Set X=1. " * 60 in system  # the top source, whole
    assert "Huge" not in system  # too big for what is left
    assert "[2] Cert › Fix" in system  # a smaller one further down still fits
    assert [s.title for s in prompt.sources] == ["Scan lag", "Cert"]
    total = sum(tokens_estimate(m.content) for m in prompt.messages)
    assert total <= 4096 - 1024


def test_citations_are_read_in_order_once_each():
    text = "Do A [2]. Then B [1, 3] and again [2]; not [9] nor [0]."

    assert cited_numbers(text, count=3) == [2, 1, 3]
