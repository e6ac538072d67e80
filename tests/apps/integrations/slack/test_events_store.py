"""An accepted event is stored as a question and its answer enqueued, once."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.conversations.models import Conversation, Message
from apps.conversations.services import question_route
from tests.doubles.slack_requests import (
    app_mention_event,
    event_callback,
    message_event,
    signed_headers,
)
from tests.factories import SlackWorkspaceFactory

SECRET = "store-signing-secret"


@pytest.fixture
def workspace(tenant_a, settings):
    settings.SLACK_SIGNING_SECRET = SECRET
    return SlackWorkspaceFactory(tenant=tenant_a, bot_user_id="U0BOTSTORE")


def send(client, workspace, event, event_id="Ev0STORE01", **headers):
    body = json.dumps(event_callback(workspace.team_id, event, event_id=event_id))
    return client.post(
        "/slack/events",
        data=body,
        content_type="application/json",
        **signed_headers(body, SECRET),
        **headers,
    )


def test_a_mention_is_stored_with_its_agent_and_its_answer_enqueued(
    client, workspace, django_capture_on_commit_callbacks
):
    event = app_mention_event("<@U0BOTSTORE> atlas: which region for the DR site?", channel="C01")

    with django_capture_on_commit_callbacks() as callbacks:
        response = send(client, workspace, event)

    assert response.status_code == 200
    assert len(callbacks) == 2  # the answer task and the live activity event, after commit
    with schema_context(workspace.tenant.schema_name):
        question = Message.objects.get()
        assert question.status == Message.Status.RECEIVED
        assert question.slack_event_id == "Ev0STORE01"
        assert question.thread_key == event["ts"]
        assert question.conversation is None  # routed by the worker, not in the request

        question_route(question)

        assert question.text == "which region for the DR site?"
        assert question.conversation.agent.slug == "atlas"
        assert question.conversation.thread_ts == event["ts"]


def test_the_same_event_id_twice_stores_one_question_and_enqueues_once(
    client, workspace, django_capture_on_commit_callbacks
):
    event = app_mention_event("<@U0BOTSTORE> hello", channel="C02")

    with django_capture_on_commit_callbacks() as callbacks:
        first = send(client, workspace, event)
        retry = send(client, workspace, event, HTTP_X_SLACK_RETRY_NUM="1")

    assert first.status_code == retry.status_code == 200
    assert len(callbacks) == 2  # once: the answer task and the live activity event
    with schema_context(workspace.tenant.schema_name):
        assert Message.objects.count() == 1


def test_the_same_message_as_mention_and_message_events_is_one_question(
    client, workspace, django_capture_on_commit_callbacks
):
    mention = app_mention_event("<@U0BOTSTORE> hi", channel="D0DM1", ts="1700000000.000200")
    dm = message_event("<@U0BOTSTORE> hi", channel="D0DM1", ts="1700000000.000200")

    send(client, workspace, mention, event_id="Ev0A")
    send(client, workspace, dm, event_id="Ev0B")

    with schema_context(workspace.tenant.schema_name):
        assert Message.objects.count() == 1


def test_a_disabled_agent_is_not_chosen_by_default(client, workspace):
    from apps.agents.models import Agent

    with schema_context(workspace.tenant.schema_name):
        Agent.objects.filter(slug="nox").update(enabled=False)
    send(client, workspace, app_mention_event("<@U0BOTSTORE> hi", channel="C03"))

    with schema_context(workspace.tenant.schema_name):
        question_route(Message.objects.get())
        assert Conversation.objects.get().agent.slug == "atlas"


def test_two_teams_store_their_questions_in_their_own_tenant_only(client, workspace, tenant_b):
    workspace_b = SlackWorkspaceFactory(tenant=tenant_b, bot_user_id="U0BOTSTOREB")

    send(client, workspace, app_mention_event("<@U0BOTSTORE> from A", channel="C0A"), "Ev0A1")
    send(client, workspace_b, app_mention_event("<@U0BOTSTOREB> from B", channel="C0B"), "Ev0B1")

    with schema_context(workspace.tenant.schema_name):
        assert list(Message.objects.values_list("team_id", "channel_id")) == [
            (workspace.team_id, "C0A")
        ]
    with schema_context(tenant_b.schema_name):
        assert list(Message.objects.values_list("team_id", "channel_id")) == [
            (workspace_b.team_id, "C0B")
        ]
