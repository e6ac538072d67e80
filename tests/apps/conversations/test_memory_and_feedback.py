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


def click(client, workspace, action_id, value, user="U0VOTER01", *, on=None):
    """A click on a button of the message ``on`` (an answer): its channel and ts."""
    where = {"channel_id": on.channel_id, "message_ts": on.slack_ts} if on is not None else {}
    body = block_actions_form(
        workspace.team_id, [button_action(action_id, value)], user_id=user, **where
    )
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

    response = click(client, workspace, "answer_feedback_down", str(answer.pk), on=answer)

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

    click(client, workspace, "answer_feedback_up", str(answer.pk), on=answer)
    click(client, workspace, "answer_feedback_up", str(answer.pk), user="U0OTHER01", on=answer)
    click(client, workspace, "answer_feedback_down", str(answer.pk), on=answer)

    with schema_context(workspace.tenant.schema_name):
        votes = dict(AnswerFeedback.objects.values_list("slack_user_id", "value"))
        assert votes == {"U0VOTER01": "down", "U0OTHER01": "up"}
        assert not Chunk.objects.filter(message=answer).exists()


def test_a_vote_counts_only_on_the_clicked_answer_and_from_a_person(
    client, workspace, ollama_double
):
    shown = answered(workspace, "who owns dns?", "1700000006.000100", "Team Edge.", ollama_double)
    other = answered(workspace, "who owns db?", "1700000007.000100", "Team Data.", ollama_double)

    # The click is on ``shown`` but its button says ``other``'s id: a forged or stale value.
    forged = click(client, workspace, "answer_feedback_down", str(other.pk), on=shown)
    nobody = click(client, workspace, "answer_feedback_down", str(shown.pk), user="", on=shown)
    a_bot = click(client, workspace, "answer_feedback_down", str(shown.pk), user="B0BOT", on=shown)
    counted = click(client, workspace, "answer_feedback_up", str(shown.pk), on=shown)

    assert {forged.status_code, nobody.status_code, a_bot.status_code} == {200}
    assert counted.status_code == 200
    with schema_context(workspace.tenant.schema_name):
        assert list(AnswerFeedback.objects.values_list("answer_id", "slack_user_id", "value")) == [
            (shown.pk, "U0VOTER01", "up")
        ]
        assert Chunk.objects.filter(message=other).exists()  # never forgotten by the forgery


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


def ask_in(workspace, *, channel, channel_type, user, text, ts, reply, ollama_double):
    """A question in ``channel`` from ``user``, answered and remembered; the prompt it got."""
    ollama_double.reply_text = reply
    with schema_context(workspace.tenant.schema_name):
        question = slack_question_store(
            IncomingMessage(
                team_id=workspace.team_id, event_id=f"Ev{channel}{ts}", channel_id=channel,
                channel_type=channel_type, user_id=user, text=text, ts=ts, thread_ts=None,
            ),
            thread_key="" if channel_type == "im" else ts,
        )  # fmt: skip
        answer = answer_generate(question_id=question.pk)
        answer_remember(answer)
    return json.dumps(ollama_double.requests_to("/api/chat")[-1].json)


def test_what_was_said_in_a_dm_serves_that_person_only(workspace, ollama_double):
    from apps.knowledge.selectors import knowledge_search

    ask_in(
        workspace, channel="D0ALICE001", channel_type="im", user="U0ALICE01",
        text="what is the vault unseal code word?", ts="1700000010.000100",
        reply="The vault unseal code word is ZEBRA-42.", ollama_double=ollama_double,
    )  # fmt: skip

    bobs_prompt = ask_in(
        workspace, channel="D0BOB00001", channel_type="im", user="U0BOB0001",
        text="what is the vault unseal code word?", ts="1700000011.000100",
        reply="I don't know.", ollama_double=ollama_double,
    )  # fmt: skip
    channel_prompt = ask_in(
        workspace, channel="C0PUBLIC01", channel_type="channel", user="U0CAROL01",
        text="what is the vault unseal code word?", ts="1700000012.000100",
        reply="I don't know.", ollama_double=ollama_double,
    )  # fmt: skip
    alices_prompt = ask_in(
        workspace, channel="D0ALICE001", channel_type="im", user="U0ALICE01",
        text="remind me the vault unseal code word", ts="1700000013.000100",
        reply="ZEBRA-42.", ollama_double=ollama_double,
    )  # fmt: skip

    assert "ZEBRA-42" not in bobs_prompt
    assert "ZEBRA-42" not in channel_prompt
    assert "ZEBRA-42" in alices_prompt  # her own memory still serves her
    with schema_context(workspace.tenant.schema_name):  # nor does staff search show it
        hits = knowledge_search("vault unseal code word ZEBRA-42", limit=20)
        assert not [hit for hit in hits if "ZEBRA-42" in hit.text]


def test_what_was_said_in_a_private_channel_serves_that_channel_only(workspace, ollama_double):
    ask_in(
        workspace, channel="G0PRIVATE1", channel_type="group", user="U0ALICE01",
        text="which host runs the payroll batch?", ts="1700000020.000100",
        reply="Payroll runs on host PAYROLL-7.", ollama_double=ollama_double,
    )  # fmt: skip

    elsewhere = ask_in(
        workspace, channel="C0PUBLIC02", channel_type="channel", user="U0ALICE01",
        text="which host runs the payroll batch?", ts="1700000021.000100",
        reply="?", ollama_double=ollama_double,
    )  # fmt: skip
    same_channel = ask_in(
        workspace, channel="G0PRIVATE1", channel_type="group", user="U0BOB0001",
        text="which host runs the payroll batch again?", ts="1700000022.000100",
        reply="PAYROLL-7.", ollama_double=ollama_double,
    )  # fmt: skip

    assert "PAYROLL-7" not in elsewhere
    assert "PAYROLL-7" in same_channel
