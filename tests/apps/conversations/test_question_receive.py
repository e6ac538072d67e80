"""Which incoming messages are questions, and the thread each is answered in (the domain's
rule: the platform only reports what it saw)."""

from django_tenants.utils import schema_context

from apps.conversations.models import Conversation
from apps.conversations.services import question_receive, question_thread_key
from apps.integrations.bases.chat import IncomingMessage

ROOT = "1700000000.000100"


def incoming(**overrides) -> IncomingMessage:
    values = {
        "team_id": "T0TEAM001",
        "event_id": None,
        "channel_id": "C0CHAN001",
        "channel_type": "channel",
        "user_id": "U0PERSON1",
        "text": "hello",
        "ts": "1700000001.000100",
        "thread_ts": None,
        "mentions_bot": False,
    }
    return IncomingMessage(**{**values, **overrides})


def test_a_mention_starts_a_thread_on_its_own_message_or_stays_in_its_thread():
    assert question_thread_key(incoming(mentions_bot=True)) == "1700000001.000100"
    assert question_thread_key(incoming(mentions_bot=True, thread_ts=ROOT)) == ROOT


def test_a_dm_is_answered_at_its_top_level_or_in_its_thread():
    assert question_thread_key(incoming(channel_type="im", channel_id="D0DM00001")) == ""
    assert question_thread_key(incoming(channel_type="im", thread_ts=ROOT)) == ROOT


def test_a_reply_is_a_question_only_in_a_thread_an_agent_takes_part_in(tenant_a):
    from apps.agents.models import Agent

    with schema_context(tenant_a.schema_name):
        assert question_thread_key(incoming(thread_ts=ROOT)) is None
        assert question_receive(incoming(thread_ts=ROOT)) is None

        Conversation.objects.create(
            agent=Agent.objects.get(slug="nox"),
            team_id="T0TEAM001",
            channel_id="C0CHAN001",
            channel_type="channel",
            thread_ts=ROOT,
            started_by="U0PERSON1",
        )

        assert question_thread_key(incoming(thread_ts=ROOT)) == ROOT
        assert question_receive(incoming(thread_ts=ROOT)).thread_key == ROOT
