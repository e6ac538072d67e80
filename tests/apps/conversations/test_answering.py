"""Answering a stored question: what the person sees (here in a workspace without Slack's
streaming methods, so the answer is a placeholder edited with chat.update; native streaming is
tested with the Slack package), and what happens when the model cannot answer."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.conversations.answering import (
    AnswerError,
    Draft,
    answer_chat,
    answer_claim,
    answer_finish,
    answer_generate,
    answer_remember_later,
    answer_retrieve,
    answer_route,
    answer_start,
    answer_stream_from_model,
    question_thread,
)
from apps.conversations.models import Message
from apps.conversations.services import slack_question_store
from apps.integrations.bases.chat import AnswerStream
from tests.factories import SlackWorkspaceFactory, incoming_message, slack_token

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


def ask(workspace, text="how do I roll back?", ts="1700000000.000100", thread=ROOT_TS):
    incoming = incoming_message(
        team_id=workspace.team_id, channel_id=CHANNEL, text=text, ts=ts, thread_ts=thread
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
    assert final["blocks"][-2]["type"] == "context"
    assert final["blocks"][-2]["elements"][0]["text"].startswith(
        "NOX · DevOps engineer · llama3.1:8b"
    )
    assert final["blocks"][-1]["elements"][0]["action_id"] == "answer_feedback_up"
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


# --- the named steps, one by one ---------------------------------------------------------------


class RecordingStream(AnswerStream):
    """An answer stream that keeps what it is given (the contract, implemented for a test)."""

    ts = "1700000099.000100"

    def __init__(self):
        self.pieces, self.finished = [], None

    def append(self, text):
        self.pieces.append(text)

    def finish(self, message):
        self.finished = message


def test_claim_takes_a_question_once_and_takes_over_a_stale_claim(answering, settings):
    settings.ANSWER_CLAIM_TIMEOUT_S = 60
    question = ask(answering)

    claimed = answer_claim(question.pk, task_id="task-1")
    assert claimed.status == Message.Status.ANSWERING and claimed.claim_task_id == "task-1"
    assert answer_claim(question.pk, task_id="task-2") is None  # a live claim elsewhere
    Message.objects.filter(pk=question.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    taken_over = answer_claim(question.pk, task_id="task-2")
    assert (taken_over.attempts, taken_over.claim_task_id) == (2, "task-2")  # its worker died
    with pytest.raises(AnswerError):
        answer_claim(999_999)


def test_the_same_task_delivered_again_takes_its_claim_over_at_once(answering):
    question = ask(answering)
    answer_claim(question.pk, task_id="task-1")

    again = answer_claim(question.pk, task_id="task-1")  # its worker died: acks_late

    assert again is not None and again.attempts == 2


def test_the_sweep_lists_stale_claims_whatever_their_attempts(answering, settings):
    from apps.conversations.selectors import questions_waiting_for_answer

    settings.ANSWER_CLAIM_TIMEOUT_S = 60
    live, stale = ask(answering), ask(answering, ts="1700000001.000100", thread="1700000001.0")
    for question in (live, stale):
        answer_claim(question.pk, task_id="t")
    Message.objects.filter(pk=stale.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=5), attempts=9
    )

    assert list(questions_waiting_for_answer()) == [Message.objects.get(pk=stale.pk)]


def test_after_the_last_attempt_the_thread_is_told_and_the_question_given_up(
    answering, slack_double, ollama_double
):
    from apps.conversations.selectors import MAX_ANSWER_ATTEMPTS

    question = ask(answering)
    Message.objects.filter(pk=question.pk).update(attempts=MAX_ANSWER_ATTEMPTS - 1)
    ollama_double.fail_next(2, status=503, path="/api/chat")

    answer_generate(question_id=question.pk)

    question.refresh_from_db()
    assert question.status == Message.Status.GAVE_UP
    assert question.error.startswith(f"gave up after {MAX_ANSWER_ATTEMPTS} attempts")
    told = slack_double.calls("chat.update")[-1]["text"]
    assert f"could not answer after {MAX_ANSWER_ATTEMPTS} attempts" in told


def test_route_gives_the_conversation_or_fails_without_an_enabled_agent(answering):
    from apps.agents.models import Agent

    routed = answer_route(answer_claim(ask(answering).pk))
    assert routed.conversation.agent.slug == "nox"

    Agent.objects.update(enabled=False)
    question = answer_claim(ask(answering, ts="1700000001.000100", thread="1700000001.000100").pk)
    with pytest.raises(AnswerError):
        answer_route(question)
    question.refresh_from_db()
    assert (question.status, question.error) == (Message.Status.FAILED, "no enabled agent")


def test_chat_is_the_questions_workspace_or_the_question_fails(answering):
    question = answer_route(answer_claim(ask(answering).pk))
    assert answer_chat(question) is not None

    question.team_id = "T0GONE0001"
    with pytest.raises(AnswerError):
        answer_chat(question)
    question.refresh_from_db()
    assert question.status == Message.Status.FAILED


def test_the_thread_names_the_place_and_the_person_answered(answering):
    question = answer_route(answer_claim(ask(answering).pk))

    thread = question_thread(question)

    assert (thread.channel, thread.thread_ts, thread.user_id) == (CHANNEL, ROOT_TS, "U0PERSON1")
    assert thread.team_id == answering.team_id and not thread.is_direct


def test_start_posts_once_and_a_later_attempt_reuses_the_message(answering, slack_double):
    question = answer_route(answer_claim(ask(answering).pk))
    chat = answer_chat(question)

    stream, answer = answer_start(chat, question)
    again, same = answer_start(chat, question)

    assert answer.pk == same.pk and stream.ts == again.ts == answer.slack_ts
    assert len(slack_double.calls("chat.postMessage")) == 1
    assert "NOX is thinking" in slack_double.calls("chat.update")[-1]["text"]


def test_retrieve_finds_the_agents_knowledge(answering, ollama_double):
    from apps.integrations.bases.llm import llm_provider_get

    question = answer_route(answer_claim(ask(answering, "ImagePullBackOff on deploy").pk))

    sources = answer_retrieve(question, llm=llm_provider_get(), chat=answer_chat(question))

    assert sources and all(source.text and source.title for source in sources)


def test_the_model_writes_into_the_stream(answering, ollama_double):
    from apps.integrations.bases.llm import llm_provider_get

    question = answer_route(answer_claim(ask(answering).pk))
    stream = RecordingStream()

    draft = answer_stream_from_model(question, knowledge=[], llm=llm_provider_get(), stream=stream)

    assert "".join(stream.pieces) == draft.result.text == ollama_double.reply_text
    assert draft.sources == []
    prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"]
    assert "Nothing in the company's knowledge base matches" in prompt[0]["content"]


def test_a_long_stream_keeps_its_claim_fresh(answering, ollama_double, settings):
    from apps.integrations.bases.llm import llm_provider_get

    settings.ANSWER_CLAIM_TIMEOUT_S = 0  # every piece of text renews the claim
    question = answer_route(answer_claim(ask(answering).pk, task_id="t1"))
    Message.objects.filter(pk=question.pk).update(claimed_at=timezone.now() - timedelta(hours=1))

    answer_stream_from_model(
        question, knowledge=[], llm=llm_provider_get(), stream=RecordingStream()
    )

    question.refresh_from_db()
    assert timezone.now() - question.claimed_at < timedelta(minutes=1)


def test_finish_shows_the_final_message_and_marks_both_rows_answered(answering):
    from apps.integrations.bases.llm import ChatResult

    question = answer_route(answer_claim(ask(answering).pk))
    answer = Message.objects.create(
        conversation=question.conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.ANSWERING,
        channel_id=CHANNEL,
        slack_ts=RecordingStream.ts,
        text="",
        in_reply_to=question,
    )
    stream = RecordingStream()
    result = ChatResult(
        text="Done.", model="m1", prompt_tokens=3, completion_tokens=1, duration_ms=5
    )

    answer_finish(
        question, answer, draft=Draft(result=result, sources=[]), stream=stream,
        chat=answer_chat(question),
    )  # fmt: skip

    assert stream.finished.text == "Done."
    assert stream.finished.feedback_value == str(answer.pk)
    assert stream.finished.notes[-1].startswith("NOX · DevOps engineer · m1")
    question.refresh_from_db()
    answer.refresh_from_db()
    assert question.status == answer.status == Message.Status.ANSWERED
    assert (answer.text, answer.model, answer.prompt_tokens) == ("Done.", "m1", 3)


def test_remember_later_publishes_the_remember_task_by_name(
    answering, settings, django_capture_on_commit_callbacks
):
    from jamono.celery import app

    question = ask(answering)
    answer = answer_generate(question_id=question.pk)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_read() as connection:
        client = connection.default_channel.client
        client.delete(queue)

        with django_capture_on_commit_callbacks(execute=True):
            answer_remember_later(answer)

        message = json.loads(client.lpop(queue))
    assert message["headers"]["task"] == "apps.conversations.tasks.answer_remember_task"
    assert json.loads(base64.b64decode(message["body"]))[1] == {
        "answer_id": answer.pk,
        "schema_name": answering.tenant.schema_name,
    }
