"""Slack behind the chat contract, against the Slack Web API double: answers streamed with
chat.startStream/appendStream/stopStream where the workspace takes them, the chat.update
fallback where it refuses them, Retry-After honoured, and the rest of the contract (status,
ephemeral, files, profiles)."""

import json
import time

import pytest
from django_tenants.utils import schema_context

from apps.conversations.answering import answer_generate
from apps.conversations.models import AnswerFeedback, Message
from apps.conversations.services import slack_question_store
from apps.integrations.bases.chat import (
    ChatPostError,
    ChatThread,
    ChatUnavailable,
    OutgoingMessage,
    chat_for_team,
)
from apps.integrations.slack.chat import SlackChat
from apps.integrations.slack.message_builder import FEEDBACK_ELEMENT_ACTION
from tests.doubles.slack_requests import block_actions_form, signed_headers
from tests.factories import SlackWorkspaceFactory, incoming_message, slack_token

CHANNEL = "C0STREAM01"
ROOT_TS = "1700000000.000100"
REPLY = "Roll back with `kubectl rollout undo deploy/api`, then check the pods."
SECRET = "chat-signing-secret"


@pytest.fixture
def workspace(tenant_a, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    settings.SLACK_SIGNING_SECRET = SECRET
    slack_double.streaming_supported = True
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token, bot_user_id="U0BOTSTR1")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTSTR1")
    ollama_double.reply_text = REPLY
    with schema_context(tenant_a.schema_name):
        yield workspace


def ask(workspace, *, channel=CHANNEL, channel_type="channel", ts=ROOT_TS, thread=ROOT_TS):
    incoming = incoming_message(
        team_id=workspace.team_id,
        channel_id=channel,
        channel_type=channel_type,
        ts=ts,
        thread_ts=thread,
    )
    return slack_question_store(incoming, thread_key=thread)


def test_an_answer_streams_natively_and_ends_with_sources_footer_and_feedback(
    workspace, slack_double
):
    question = ask(workspace)

    answer = answer_generate(question_id=question.pk)

    start = slack_double.calls("chat.startStream")[0]
    assert (start["channel"], start["thread_ts"]) == (CHANNEL, ROOT_TS)
    assert (start["recipient_user_id"], start["recipient_team_id"]) == (
        "U0PERSON1",
        workspace.team_id,
    )
    assert slack_double.calls("chat.appendStream")  # progress reached the person
    assert not slack_double.calls("chat.postMessage")
    assert not slack_double.calls("chat.update")
    final = slack_double.thread(CHANNEL, ROOT_TS)[-1]
    assert final["ts"] == answer.slack_ts
    assert final["text"] == REPLY
    assert not slack_double.stream(CHANNEL, answer.slack_ts)["streaming"]
    rendered = json.dumps(final["blocks"], ensure_ascii=False)
    assert ":books:" in rendered  # the sources line
    assert "NOX · DevOps engineer · llama3.1:8b" in rendered
    feedback = final["blocks"][-1]
    assert feedback["type"] == "context_actions"
    assert feedback["elements"][0]["type"] == "feedback_buttons"
    assert feedback["elements"][0]["positive_button"]["value"] == f"up:{answer.pk}"
    answer.refresh_from_db()
    assert answer.status == Message.Status.ANSWERED and answer.text == REPLY


def test_a_workspace_that_refuses_streaming_gets_the_placeholder_and_chat_update(
    workspace, slack_double
):
    slack_double.streaming_supported = False
    first = ask(workspace)
    second = ask(workspace, ts="1700000009.000100", thread="1700000009.000100")

    answer_generate(question_id=first.pk)
    answer_generate(question_id=second.pk)

    # Refused once (the double answers STREAMING_REFUSED_ERROR), then not asked again.
    assert len(slack_double.calls("chat.startStream")) == 1
    posts = slack_double.calls("chat.postMessage")
    assert len(posts) == 2 and all("NOX is thinking" in post["text"] for post in posts)
    final = slack_double.thread(CHANNEL, ROOT_TS)[-1]
    assert REPLY.split("`")[0] in json.dumps(final["blocks"])
    assert final["blocks"][-1]["elements"][0]["action_id"] == "answer_feedback_up"


def test_a_429_with_retry_after_2_is_honoured_once_and_the_answer_still_arrives(
    workspace, slack_double
):
    slack_double.fail_next("chat.stopStream", "ratelimited", retry_after=2)
    question = ask(workspace)

    started = time.monotonic()
    answer = answer_generate(question_id=question.pk)

    assert time.monotonic() - started >= 2
    assert len(slack_double.calls("chat.stopStream")) == 2  # the 429, then the retry
    assert slack_double.thread(CHANNEL, ROOT_TS)[-1]["text"] == REPLY
    answer.refresh_from_db()
    assert answer.status == Message.Status.ANSWERED


def test_a_retry_after_longer_than_the_bound_is_not_slept_and_fails_as_ratelimited(
    workspace, slack_double, settings
):
    settings.SLACK_MAX_RETRY_AFTER_S = 5
    slack_double.fail_next("chat.postMessage", "ratelimited", retry_after=120)
    chat = chat_for_team(workspace.team_id)

    started = time.monotonic()
    with pytest.raises(ChatPostError) as refused:
        chat.post(ChatThread(channel=CHANNEL, thread_ts=ROOT_TS), OutgoingMessage(text="hi"))

    assert time.monotonic() - started < 5
    assert refused.value.code == "ratelimited" and refused.value.retryable
    assert len(slack_double.calls("chat.postMessage")) == 1


def test_a_dm_top_level_answer_uses_the_placeholder_not_a_stream(workspace, slack_double):
    question = ask(workspace, channel="D0STREAM01", channel_type="im", thread="")

    answer_generate(question_id=question.pk)

    assert not slack_double.calls("chat.startStream")
    post = slack_double.calls("chat.postMessage")[0]
    assert post["channel"] == "D0STREAM01" and not post.get("thread_ts")


def test_in_a_dm_thread_the_thinking_state_is_slacks_thread_status(workspace, slack_double):
    question = ask(workspace, channel="D0STREAM02", channel_type="im", ts="1700000002.000100")

    answer_generate(question_id=question.pk)

    assert slack_double.statuses("D0STREAM02", ROOT_TS) == ["NOX is thinking…"]
    assert slack_double.thread("D0STREAM02", ROOT_TS)[-1]["text"] == REPLY


def test_an_unreachable_model_turns_the_stream_into_the_notice_then_the_retry_answers(
    workspace, slack_double, ollama_double
):
    ollama_double.fail_next(2, status=503, path="/api/chat")
    question = ask(workspace)

    answer_generate(question_id=question.pk)

    notice = slack_double.thread(CHANNEL, ROOT_TS)[-1]
    assert "can't reach its language model" in notice["text"]
    answer = answer_generate(question_id=question.pk)  # the model is back
    assert answer.status == Message.Status.ANSWERED
    # One message from the agent: the retry edited the notice (a stream cannot be resumed).
    agent_messages = [m for m in slack_double.thread(CHANNEL, ROOT_TS) if m.get("bot_id")]
    assert [m["ts"] for m in agent_messages] == [answer.slack_ts]
    assert REPLY.split("`")[0] in json.dumps(agent_messages[0]["blocks"])


def test_a_stream_slack_ended_early_is_finished_with_chat_update(
    workspace, slack_double, ollama_double
):
    question = ask(workspace)
    ollama_double.reply_text = REPLY
    slack_double.fail_next("chat.stopStream", "message_not_in_streaming_state")

    answer = answer_generate(question_id=question.pk)

    final = slack_double.thread(CHANNEL, ROOT_TS)[-1]
    assert final["ts"] == answer.slack_ts
    assert REPLY.split("`")[0] in json.dumps(final["blocks"])
    answer.refresh_from_db()
    assert answer.status == Message.Status.ANSWERED


def test_slacks_feedback_element_records_the_vote(client, workspace, slack_double):
    answer = answer_generate(question_id=ask(workspace).pk)
    action = {
        "type": "feedback_buttons",
        "action_id": FEEDBACK_ELEMENT_ACTION,
        "block_id": f"feedback-{answer.pk}",
        "value": f"down:{answer.pk}",
        "action_ts": "1700000100.000100",
    }
    body = block_actions_form(
        workspace.team_id,
        [action],
        user_id="U0VOTER01",
        channel_id=answer.channel_id,
        message_ts=answer.slack_ts,
    )

    response = client.post(
        "/slack/events",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body, SECRET),
    )

    assert response.status_code == 200
    with schema_context(workspace.tenant.schema_name):  # the request left the schema
        assert AnswerFeedback.objects.get(answer=answer).value == "down"


def test_ephemeral_messages_files_and_profiles_go_through_the_contract(workspace, slack_double):
    slack_double.add_user("U0PERSON1", email="ada@example.com", tz="Europe/Paris")
    chat = chat_for_team(workspace.team_id)
    thread = ChatThread(channel=CHANNEL, thread_ts=ROOT_TS, user_id="U0PERSON1")

    chat.post_ephemeral(thread, OutgoingMessage(text="You can't vote on this."))
    file_id = chat.upload_file(
        thread, filename="report.bin", content=b"\x89PNG\xff\x00", title="Post-mortem"
    )
    profile = chat.user_profile("U0PERSON1")

    ephemeral = slack_double.ephemerals(CHANNEL)[0]
    assert ephemeral["recipient"] == "U0PERSON1" and "can't vote" in ephemeral["text"]
    uploaded = slack_double.files(CHANNEL)[0]
    assert uploaded["id"] == file_id and uploaded["content"] == b"\x89PNG\xff\x00"
    assert (uploaded["thread_ts"], uploaded["title"]) == (ROOT_TS, "Post-mortem")
    assert (profile.email, profile.time_zone) == ("ada@example.com", "Europe/Paris")


def test_the_thread_status_is_not_offered_outside_dm_threads(workspace, slack_double):
    chat = chat_for_team(workspace.team_id)

    shown = chat.status_set(ChatThread(channel=CHANNEL, thread_ts=ROOT_TS), "thinking")

    assert shown is False
    assert not slack_double.calls("assistant.threads.setStatus")


def test_a_team_of_another_tenant_or_disconnected_is_unavailable(workspace, tenant_b):
    assert isinstance(chat_for_team(workspace.team_id), SlackChat)
    with pytest.raises(ChatUnavailable):
        chat_for_team("T0NOBODY99")
    workspace.tenant = tenant_b
    workspace.save()
    with pytest.raises(ChatUnavailable):
        chat_for_team(workspace.team_id)
