"""Answering a stored question: placeholder at once, streamed edits, final Block Kit, and
what the person sees when the model cannot answer."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.conversations.answering import AnswerError, answer_generate
from apps.conversations.models import Message
from apps.conversations.services import IncomingSlackMessage, slack_question_store
from tests.factories import SlackWorkspaceFactory, slack_token

CHANNEL = "C0ANSWER01"
ROOT_TS = "1700000000.000100"


@pytest.fixture
def answering(tenant_a, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token, bot_user_id="U0BOTANS1")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTANS1")
    ollama_double.reply_text = "Roll back with `kubectl rollout undo deploy/api`."
    with schema_context(tenant_a.schema_name):
        yield workspace


def ask(workspace, text="how do I roll back?", ts="1700000000.000100", thread=ROOT_TS, event=None):
    incoming = IncomingSlackMessage(
        team_id=workspace.team_id,
        event_id=event or f"Ev{ts}",
        channel_id=CHANNEL,
        channel_type="channel",
        user_id="U0PERSON1",
        text=text,
        ts=ts,
        thread_ts=thread,
    )
    return slack_question_store(incoming, thread_key=thread)


def test_the_answer_is_posted_in_the_thread_then_streamed_then_finalised(answering, slack_double):
    question = ask(answering)

    answer = answer_generate(question_id=question.pk)

    post = slack_double.calls("chat.postMessage")[0]
    assert post["thread_ts"] == ROOT_TS and "NOX is thinking" in post["text"]
    updates = slack_double.calls("chat.update")
    assert len(updates) >= 2  # streamed edits, then the final message
    final = updates[-1]
    assert "kubectl rollout undo" in json.dumps(final["blocks"])
    assert final["blocks"][-1]["type"] == "context"
    assert final["blocks"][-1]["elements"][0]["text"].startswith(
        "NOX · DevOps engineer · llama3.1:8b"
    )
    answer.refresh_from_db()
    question.refresh_from_db()
    assert answer.status == question.status == Message.Status.ANSWERED
    assert answer.text == "Roll back with `kubectl rollout undo deploy/api`."
    assert answer.model == "llama3.1:8b"
    assert answer.prompt_tokens and answer.completion_tokens
    assert answer.answer_latency_ms is not None and answer.llm_duration_ms is not None


def test_streamed_edits_are_throttled_by_the_update_interval(answering, slack_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 60
    question = ask(answering)

    answer_generate(question_id=question.pk)

    assert len(slack_double.calls("chat.update")) == 1  # only the final message


def test_a_question_is_answered_once_even_if_its_task_runs_twice(answering, slack_double):
    question = ask(answering)

    first = answer_generate(question_id=question.pk)
    second = answer_generate(question_id=question.pk)

    assert first is not None and second is None
    assert len(slack_double.calls("chat.postMessage")) == 1


def test_the_prompt_holds_the_persona_and_the_earlier_turns_of_the_thread(answering, ollama_double):
    first = ask(answering, "what is our deploy tool?", ts=ROOT_TS)
    answer_generate(question_id=first.pk)
    second = ask(answering, "and how do I roll back?", ts="1700000005.000100")

    answer_generate(question_id=second.pk)

    messages = ollama_double.requests_to("/api/chat")[-1].json["messages"]
    assert messages[0]["role"] == "system" and "You are NOX" in messages[0]["content"]
    assert [(m["role"], m["content"]) for m in messages[1:]] == [
        ("user", "what is our deploy tool?"),
        ("assistant", "Roll back with `kubectl rollout undo deploy/api`."),
        ("user", "and how do I roll back?"),
    ]


def test_an_unreachable_model_is_announced_and_the_question_waits(
    answering, slack_double, ollama_double
):
    ollama_double.fail_next(2, status=503, path="/api/chat")
    question = ask(answering)

    answer_generate(question_id=question.pk)

    question.refresh_from_db()
    assert question.status == Message.Status.LLM_UNAVAILABLE
    assert question.text == "how do I roll back?"
    notice = slack_double.calls("chat.update")[-1]
    assert "NOX can't reach its language model right now; your message is saved" in notice["text"]

    answer = answer_generate(question_id=question.pk)  # the model is back

    assert answer.status == Message.Status.ANSWERED
    assert len(slack_double.calls("chat.postMessage")) == 1  # the notice became the answer


def test_a_model_error_is_shown_and_the_question_marked_failed(answering, slack_double):
    from apps.agents.models import Agent

    Agent.objects.filter(slug="nox").update(model="no-such-model")
    question = ask(answering)

    answer_generate(question_id=question.pk)

    question.refresh_from_db()
    assert question.status == Message.Status.FAILED
    assert "no-such-model" in question.error
    assert "could not answer" in slack_double.calls("chat.update")[-1]["text"]


def test_a_revoked_slack_token_fails_the_question_without_calling_the_model(
    answering, slack_double, ollama_double
):
    slack_double.revoke_token(answering.bot_token)
    question = ask(answering)

    answer_generate(question_id=question.pk)

    question.refresh_from_db()
    assert question.status == Message.Status.FAILED
    assert question.error == "slack: invalid_auth"
    assert not ollama_double.requests_to("/api/chat")


def test_a_workspace_of_another_tenant_is_never_used(answering, tenant_b):
    question = ask(answering)
    answering.tenant = tenant_b  # the team now belongs to B: A's question must not use it
    answering.save()

    with pytest.raises(AnswerError):
        answer_generate(question_id=question.pk)


def test_a_french_tenant_sees_its_placeholder_and_notices_in_french(
    answering, slack_double, ollama_double
):
    from apps.conversations.tasks import answer_generate_task

    answering.tenant.language = "fr"
    answering.tenant.save(update_fields=["language"])
    ollama_double.fail_next(2, status=503, path="/api/chat")
    question = ask(answering)

    answer_generate_task.apply(
        kwargs={"question_id": question.pk, "schema_name": answering.tenant.schema_name}
    ).get()

    assert "NOX réfléchit…" in slack_double.calls("chat.postMessage")[0]["text"]
    assert (
        "ne peut pas joindre son modèle de langage" in slack_double.calls("chat.update")[-1]["text"]
    )


def test_with_the_openai_provider_the_same_question_is_answered_through_openai(
    tenant_a, slack_double, openai_double, settings
):
    from apps.agents.models import Agent

    settings.SLACK_UPDATE_INTERVAL_S = 0
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=workspace.bot_user_id)
    openai_double.reply_text = "Use the blue-green switch."
    with schema_context(tenant_a.schema_name):
        Agent.objects.filter(slug="nox").update(model=openai_double.models[0])
        question = ask(workspace)

        answer = answer_generate(question_id=question.pk)

    assert answer.status == Message.Status.ANSWERED
    assert answer.text == "Use the blue-green switch."
    request = openai_double.requests_to("/v1/chat/completions")[-1].json
    assert request["stream"] is True
    assert request["messages"][-1] == {"role": "user", "content": "how do I roll back?"}
    assert "Use the blue-green switch." in str(slack_double.calls("chat.update")[-1]["blocks"])
