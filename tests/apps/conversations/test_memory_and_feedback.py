"""Finished answers become memory the agent draws on later; 👎 answers never do."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.conversations.answering import answer_generate
from apps.conversations.memory import answer_remember
from apps.conversations.models import AnswerFeedback
from apps.conversations.services import slack_question_store
from apps.integrations.bases.chat import IncomingMessage
from apps.knowledge.models import Chunk, Document
from tests.doubles.slack_requests import block_actions_form, button_action, signed_headers
from tests.factories import SlackWorkspaceFactory, slack_token

SECRET = "feedback-signing-secret"


@pytest.fixture
def workspace(tenant_a, slack_double, ollama_double, settings):
    settings.SLACK_UPDATE_INTERVAL_S = 0
    settings.SLACK_SIGNING_SECRET = SECRET
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=workspace.bot_user_id)
    with schema_context(tenant_a.schema_name):
        Document.objects.all().delete()
    return workspace


def answered(workspace, text, ts, reply, ollama_double):
    ollama_double.reply_text = reply
    with schema_context(workspace.tenant.schema_name):
        question = slack_question_store(
            IncomingMessage(
                team_id=workspace.team_id, event_id=f"Ev{ts}", channel_id=f"C{ts[-4:]}",
                channel_type="channel", user_id="U0PERSON1", text=text, ts=ts, thread_ts=None,
            ),
            thread_key=ts,
        )  # fmt: skip
        answer = answer_generate(question_id=question.pk)
        answer_remember(answer)  # what the worker's answer_remember_task does
        return answer


def click(client, workspace, action_id, value, user="U0VOTER01"):
    body = block_actions_form(workspace.team_id, [button_action(action_id, value)], user_id=user)
    return client.post(
        "/slack/events",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body, SECRET),
    )


def test_a_later_question_is_grounded_in_an_earlier_answer(workspace, ollama_double):
    answered(
        workspace, "which port does the billing queue use?", "1700000001.000100",
        "The billing queue listens on port 5673 (RabbitMQ, vhost billing).", ollama_double,
    )  # fmt: skip

    answered(
        workspace, "remind me the billing queue port", "1700000002.000100", "5673.",
        ollama_double,
    )  # fmt: skip

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "[1] Earlier conversation" in system_prompt
    assert "port 5673 (RabbitMQ, vhost billing)" in system_prompt


def test_answers_carry_feedback_buttons_with_their_id(workspace, slack_double, ollama_double):
    answer = answered(workspace, "hello?", "1700000003.000100", "Hi.", ollama_double)

    blocks = slack_double.calls("chat.update")[-1]["blocks"]

    actions = next(b for b in blocks if b["type"] == "actions")
    assert [e["value"] for e in actions["elements"]] == [str(answer.pk)] * 2
    assert [e["action_id"] for e in actions["elements"]] == [
        "answer_feedback_up",
        "answer_feedback_down",
    ]


def test_a_thumbs_down_is_stored_and_removes_the_answer_from_memory(
    client, workspace, ollama_double
):
    answer = answered(
        workspace, "what is our DNS provider?", "1700000004.000100", "It is WrongDNS Inc.",
        ollama_double,
    )  # fmt: skip
    with schema_context(workspace.tenant.schema_name):
        assert Chunk.objects.filter(message=answer, kind=Chunk.Kind.MEMORY).exists()

    response = click(client, workspace, "answer_feedback_down", str(answer.pk))

    assert response.status_code == 200
    with schema_context(workspace.tenant.schema_name):
        assert AnswerFeedback.objects.get(answer=answer).value == "down"
        assert not Chunk.objects.filter(message=answer).exists()
        assert answer_remember(answer) is None  # and it is never remembered again


def test_a_thumbs_up_keeps_the_memory_and_a_person_can_change_their_vote(
    client, workspace, ollama_double
):
    answer = answered(
        workspace, "who owns billing?", "1700000005.000100", "Team Ledger.", ollama_double
    )

    click(client, workspace, "answer_feedback_up", str(answer.pk))
    click(client, workspace, "answer_feedback_up", str(answer.pk), user="U0OTHER01")
    click(client, workspace, "answer_feedback_down", str(answer.pk))

    with schema_context(workspace.tenant.schema_name):
        votes = dict(AnswerFeedback.objects.values_list("slack_user_id", "value"))
        assert votes == {"U0VOTER01": "down", "U0OTHER01": "up"}
        assert not Chunk.objects.filter(message=answer).exists()


@pytest.mark.parametrize("value", ["not-a-number", "999999"])
def test_feedback_for_a_malformed_or_unknown_answer_is_acked_and_ignored(client, workspace, value):
    response = click(client, workspace, "answer_feedback_up", value)

    assert response.status_code == 200
    with schema_context(workspace.tenant.schema_name):
        assert not AnswerFeedback.objects.exists()


def test_another_tenants_memory_never_grounds_an_answer(
    workspace, tenant_b, slack_double, ollama_double
):
    answered(
        workspace, "what is the vault path?", "1700000006.000100", "secret/data/acme-zebra.",
        ollama_double,
    )  # fmt: skip
    token = slack_token()
    other = SlackWorkspaceFactory(tenant=tenant_b, bot_token=token)
    slack_double.add_token(token, team_id=other.team_id, bot_user_id=other.bot_user_id)

    answered(other, "what is the vault path?", "1700000007.000100", "?", ollama_double)

    system_prompt = ollama_double.requests_to("/api/chat")[-1].json["messages"][0]["content"]
    assert "acme-zebra" not in json.dumps(system_prompt)
