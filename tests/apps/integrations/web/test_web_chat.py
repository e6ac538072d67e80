"""The browser chat behind the chat contract: what the pipeline and the tools may ask of it
(a file, a link to the conversation, who the person is) lands on the person's group."""

from __future__ import annotations

import base64

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.services import question_route, web_question_store
from apps.integrations.bases.chat import (
    ChatPostError,
    ChatThread,
    OutgoingMessage,
    chat_for_team,
)
from apps.integrations.web.chat import WebChat
from apps.integrations.web.events import note_parts, webchat_group
from tests.apps.integrations.web.conftest import person_make

THREAD = "0123456789abcdef"


@pytest.fixture
def ana_in_schema(tenant_a):
    ana = person_make(tenant_a, "ana")
    with schema_context(tenant_a.schema_name):
        yield ana


def thread_of(user) -> ChatThread:
    person = f"web-{user.pk}"
    return ChatThread(
        channel=person, thread_ts=THREAD, team_id="web", user_id=person, is_direct=True
    )


def listening(schema_name: str, user_pk: int) -> str:
    """A channel in the person's group (as their page's socket is)."""
    layer = get_channel_layer()

    async def join():
        channel = await layer.new_channel()
        await layer.group_add(webchat_group(schema_name, user_pk), channel)
        return channel

    return async_to_sync(join)()


def received(channel: str) -> dict:
    return async_to_sync(get_channel_layer().receive)(channel)


def test_the_web_team_loads_the_browser_chat(ana_in_schema):
    assert isinstance(chat_for_team("web"), WebChat)


def test_a_shared_file_comes_to_the_page_to_download(ana_in_schema, tenant_a):
    channel = listening(tenant_a.schema_name, ana_in_schema.pk)

    file_id = WebChat().upload_file(
        thread_of(ana_in_schema), filename="postmortem.ics", content=b"BEGIN:VCALENDAR", title="PM"
    )

    event = received(channel)
    assert (event["kind"], event["file"], event["name"]) == ("file", file_id, "postmortem.ics")
    assert event["content_type"] == "text/calendar" and event["thread"] == THREAD
    assert base64.b64decode(event["content_base64"]) == b"BEGIN:VCALENDAR"


def test_a_file_too_big_for_the_page_is_refused(ana_in_schema):
    with pytest.raises(ChatPostError, match="file_too_large"):
        WebChat().upload_file(thread_of(ana_in_schema), filename="big.bin", content=b"x" * 10**6)


def test_a_message_only_the_person_sees_goes_to_their_page(ana_in_schema, tenant_a):
    channel = listening(tenant_a.schema_name, ana_in_schema.pk)

    WebChat().post_ephemeral(thread_of(ana_in_schema), OutgoingMessage(text="Not yours to vote."))

    event = received(channel)
    assert (event["kind"], event["text"], event["thread"]) == (
        "message",
        "Not yours to vote.",
        THREAD,
    )


def test_the_person_is_the_django_user_in_the_server_time_zone(ana_in_schema):
    profile = WebChat().user_profile(f"web-{ana_in_schema.pk}")

    assert (profile.email, profile.real_name) == ("ana@acme.test", "ana")
    assert profile.time_zone == django_settings.TIME_ZONE
    with pytest.raises(ChatPostError):
        WebChat().user_profile("U0SLACK01")


def test_the_permalink_is_the_conversation_page(ana_in_schema, tenant_a, settings):
    question = web_question_store(
        user_pk=ana_in_schema.pk,
        agent=Agent.objects.get(slug="nox"),
        text="is prod ok?",
        thread_key=THREAD,
    )
    question = question_route(question)  # what the answer's worker does first

    link = WebChat().permalink(channel=question.channel_id, ts=question.slack_ts)

    domain = tenant_a.get_primary_domain().domain
    assert link == f"http://{domain}:{settings.PORT}/conversations/{question.conversation_id}/"


def test_notes_become_text_and_links_never_markup():
    parts = note_parts(":books: Sources: [1] [Runbook › Fix](http://a.test/knowledge/7/) <b>x</b>")

    assert parts == [
        {"text": "📚 Sources: [1] "},
        {"text": "Runbook › Fix", "href": "http://a.test/knowledge/7/"},
        {"text": " <b>x</b>"},
    ]
    assert note_parts("[click](javascript:alert(1))") == [{"text": "[click](javascript:alert(1))"}]
