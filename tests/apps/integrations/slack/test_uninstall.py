"""Slack tells us the app is gone: the workspace stops being routed and its token is erased."""

import json
import logging

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.conversations.models import Message
from apps.integrations.slack.models import SlackWorkspace
from tests.doubles.slack_requests import app_mention_event, event_callback, signed_headers
from tests.factories import SlackWorkspaceFactory

SECRET = "uninstall-signing-secret"


@pytest.fixture
def workspace(tenant_a, settings):
    settings.SLACK_SIGNING_SECRET = SECRET
    return SlackWorkspaceFactory(tenant=tenant_a, bot_user_id="U0BOTGONE1")


def send(client, workspace, event):
    body = json.dumps(event_callback(workspace.team_id, event, bot_user_id=workspace.bot_user_id))
    return client.post(
        "/slack/events", data=body, content_type="application/json", **signed_headers(body, SECRET)
    )


def raw_token_column(workspace) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bot_token FROM public.workspaces_slackworkspace WHERE id = %s", [workspace.pk]
        )
        return cursor.fetchone()[0]


def test_app_uninstalled_erases_the_token_and_stops_routing_the_team(client, workspace, caplog):
    send(client, workspace, app_mention_event("<@U0BOTGONE1> before", channel="C01"))

    response = send(client, workspace, {"type": "app_uninstalled"})

    assert response.status_code == 200
    workspace.refresh_from_db()
    assert workspace.is_active is False
    assert workspace.bot_token == ""
    assert raw_token_column(workspace) == ""

    with caplog.at_level(logging.WARNING):
        after = send(client, workspace, app_mention_event("<@U0BOTGONE1> after", channel="C01"))
    assert after.status_code == 200  # acked, or Slack would retry
    assert "unknown team" in caplog.text
    with schema_context(workspace.tenant.schema_name):
        assert list(Message.objects.values_list("text", flat=True)) == ["<@U0BOTGONE1> before"]


def test_revoking_the_bot_token_disconnects_the_workspace(client, workspace):
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOTGONE1"]}}

    assert send(client, workspace, event).status_code == 200

    workspace.refresh_from_db()
    assert (workspace.is_active, workspace.bot_token) == (False, "")


def test_revoking_only_user_tokens_keeps_the_workspace(client, workspace):
    token = workspace.bot_token
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U0PERSON01"], "bot": []}}

    assert send(client, workspace, event).status_code == 200

    workspace.refresh_from_db()
    assert (workspace.is_active, workspace.bot_token) == (True, token)


def test_a_malformed_tokens_revoked_event_changes_nothing(client, workspace):
    assert send(client, workspace, {"type": "tokens_revoked", "tokens": "all"}).status_code == 200

    assert SlackWorkspace.objects.get(pk=workspace.pk).is_active is True


def test_reconnecting_after_an_uninstall_routes_the_team_again(client, workspace):
    from apps.integrations.slack.services import slack_workspace_connect

    send(client, workspace, {"type": "app_uninstalled"})
    slack_workspace_connect(
        schema_name=workspace.tenant.schema_name,
        team_id=workspace.team_id,
        bot_token="xoxb-1-2-newtoken",
        bot_user_id=workspace.bot_user_id,
    )

    send(client, workspace, app_mention_event("<@U0BOTGONE1> back", channel="C01"))

    with schema_context(workspace.tenant.schema_name):
        assert Message.objects.filter(text__endswith="back").count() == 1
