"""web_question_store: a question asked on the company's site is stored like a Slack DM (its
memory serves only its person), in a conversation with the page's agent."""

import pytest
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.memory import memory_audience
from apps.conversations.models import Conversation, Message
from apps.conversations.services import QuestionRefused, question_route, web_question_store
from apps.knowledge.models import Chunk

THREAD = "f00dfeedf00dfeed"


@pytest.fixture
def in_schema(tenant_a):
    with schema_context(tenant_a.schema_name):
        yield


def ask(text="is the deploy stuck?", agent="atlas", thread=THREAD, user_pk=7):
    agent = Agent.objects.get(slug=agent)
    return web_question_store(user_pk=user_pk, agent=agent, text=text, thread_key=thread)


def test_a_web_question_is_a_private_question_of_its_person(in_schema):
    question = question_route(ask("  nox, is the deploy stuck?  "))

    assert (question.team_id, question.channel_type, question.thread_key) == ("web", "im", THREAD)
    assert question.slack_user_id == question.channel_id == "web-7"
    assert question.conversation.agent.slug == "atlas"  # the page's, whatever the text names
    assert question.conversation.started_by == "web-7"
    assert memory_audience(question) == (Chunk.Audience.PERSON, "web-7")


def test_each_question_of_a_thread_has_its_own_message_id(in_schema):
    first, second = ask("one"), ask("two")

    assert first.slack_ts != second.slack_ts
    assert Conversation.objects.count() == 1


def test_a_thread_of_another_agent_is_refused(in_schema):
    ask(agent="atlas")

    with pytest.raises(QuestionRefused, match="another agent"):
        ask(agent="nox")
    assert Message.objects.count() == 1


def test_a_disabled_agent_takes_no_question(in_schema):
    Agent.objects.filter(slug="atlas").update(enabled=False)

    with pytest.raises(QuestionRefused, match="disabled"):
        ask()
    assert not Message.objects.exists() and not Conversation.objects.exists()
