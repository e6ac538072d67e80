"""Signed requests Slack could send (or a buggy proxy could mangle): every one is stored and
answered, or refused with a clear 4xx, never a 500, and what was refused is logged."""

import json
from urllib.parse import urlencode

import pytest
from django_tenants.utils import schema_context

from apps.conversations.answering import answer_generate
from apps.conversations.models import Message
from tests.doubles.slack_requests import (
    app_mention_event,
    block_actions_payload,
    button_action,
    event_callback,
    signed_headers,
)
from tests.factories import SlackWorkspaceFactory, slack_token

SECRET = "odd-signing-secret"
BOT = "U0BOTODD01"


@pytest.fixture
def workspace(tenant_a, settings, slack_double, ollama_double):
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SLACK_UPDATE_INTERVAL_S = 0
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant_a, bot_token=token, bot_user_id=BOT)
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id=BOT)
    return workspace


def post_json(client, body: str):
    return client.post(
        "/slack/events", data=body, content_type="application/json", **signed_headers(body, SECRET)
    )


def post_interaction(client, payload: dict):
    body = urlencode({"payload": json.dumps(payload)})
    return client.post(
        "/slack/events",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed_headers(body, SECRET),
    )


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("disk full x\u0000y", "disk full x\ufffdy"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ],
)
def test_a_nul_or_a_lone_surrogate_is_stored_replaced_and_answered_once(
    client, workspace, slack_double, text, stored
):
    event = app_mention_event(f"<@{BOT}> {text}", channel="C0ODDTEXT1")
    # ensure_ascii: the lone surrogate travels as \\ud800, as Slack's JSON would carry it.
    body = json.dumps(event_callback(workspace.team_id, event, event_id="Ev0ODDTEXT"))

    first = post_json(client, body)
    retry = post_json(client, body)

    assert (first.status_code, retry.status_code) == (200, 200)
    with schema_context(workspace.tenant.schema_name):
        question = Message.objects.get(role=Message.Role.USER, channel_id="C0ODDTEXT1")
        assert question.text.endswith(stored)
        answer = answer_generate(question_id=question.pk)
        assert answer.status == Message.Status.ANSWERED
    assert len(slack_double.calls("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "event_callback", "team_id": "TEAM", "event": "a string", "event_id": "Ev1"},
        {"type": "event_callback", "team_id": "TEAM", "event": None, "event_id": "Ev2"},
        {"type": "event_callback", "team_id": "TEAM", "event": {"type": 7}, "event_id": "Ev3"},
        {"type": "event_callback", "team_id": "TEAM", "event": {"type": "app_mention",
         "user": ["U1"], "text": {"a": 1}, "ts": 5, "channel": None}},
    ],
)  # fmt: skip
def test_odd_events_are_acked_or_refused_never_a_500(client, workspace, payload, caplog):
    body = json.dumps({**payload, "team_id": workspace.team_id})

    response = post_json(client, body)

    assert response.status_code in {200, 400}, response.content
    with schema_context(workspace.tenant.schema_name):
        assert not Message.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p["actions"].clear(),
        lambda p: p.update(actions=None),
        lambda p: p["actions"][0].update(value=None),
        lambda p: p["actions"][0].update(value=["1", "2"]),
        lambda p: p["actions"][0].update(action_id=None),
        lambda p: p.update(user=None),
    ],
)
def test_odd_interactions_are_acked_or_refused_never_a_500(client, workspace, mangle):
    payload = block_actions_payload(
        workspace.team_id, [button_action("answer_feedback_up", "1")], user_id="U0VOTER01"
    )
    mangle(payload)

    response = post_interaction(client, payload)

    assert response.status_code in {200, 400}, response.content


@pytest.mark.parametrize(
    "view",
    [{}, {"id": "V1"}, None, "a string", {"type": None, "callback_id": "x"}],
)
def test_a_view_submission_without_a_proper_view_is_acked_or_refused(client, workspace, view):
    payload = {
        "type": "view_submission",
        "team": {"id": workspace.team_id},
        "user": {"id": "U0PERSON1", "team_id": workspace.team_id},
        "view": view,
    }

    response = post_interaction(client, payload)

    assert response.status_code in {200, 400}, response.content
