"""The company's "Connect Slack" page: the manifest of an app wired to this server, and a
pasted bot token from which Slack says the team and the bot (auth.test on the Slack double)."""

from __future__ import annotations

import json

import pytest

from apps.integrations.slack.models import SlackWorkspace
from tests.factories import slack_token, tenant_browser

URL = "/setup/slack/"


@pytest.fixture
def host(tenant_a):
    return tenant_a.get_primary_domain().domain


def logged_in(client, tenant, *, superuser=True):
    return tenant_browser(client, tenant, superuser=superuser, set_host=False)


def test_the_page_needs_a_staff_login(client, host):
    response = client.get(URL, HTTP_HOST=host)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_manifest_is_wired_to_this_server(client, tenant_a, host):
    page = logged_in(client, tenant_a).get(URL, HTTP_HOST=host)

    assert page.status_code == 200
    text = page.content.decode()
    manifest = json.loads(text.split('<pre id="slack-manifest">')[1].split("</pre>")[0]
                          .replace("&quot;", '"'))  # fmt: skip
    events = f"http://{host}/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == events
    assert manifest["settings"]["interactivity"]["request_url"] == events
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert {"/nox-status", "/nox-help", "/nox-metrics", "/atlas-status", "/cirrus-help"} <= commands
    assert "files:write" in manifest["oauth_config"]["scopes"]["bot"]


def test_a_pasted_token_connects_the_workspace_slack_names(client, tenant_a, host, slack_double):
    token = slack_token()
    slack_double.add_token(token, team_id="T0PASTED1", bot_user_id="U0BOTPAST")
    client = logged_in(client, tenant_a)

    response = client.post(URL, {"bot_token": token}, HTTP_HOST=host)

    assert response.status_code == 302
    workspace = SlackWorkspace.objects.get(team_id="T0PASTED1")
    assert workspace.tenant == tenant_a and workspace.bot_user_id == "U0BOTPAST"
    assert workspace.bot_token == token
    page = client.get(URL, HTTP_HOST=host).content.decode()
    assert "is connected" in page and token not in page


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("xoxb-1-2-unknowntokenunknowntoken", "Slack refused the token (invalid_auth)"),
        ("not-a-token", "expected a bot token starting with xoxb-"),
    ],
)
def test_a_bad_token_is_a_400_that_says_why_and_stores_nothing(
    client, tenant_a, host, slack_double, token, reason
):
    response = logged_in(client, tenant_a).post(URL, {"bot_token": token}, HTTP_HOST=host)

    assert response.status_code == 400
    assert reason in response.content.decode() and token not in response.content.decode()
    assert not SlackWorkspace.objects.exists()


def test_staff_who_are_not_administrators_cannot_connect(client, tenant_a, host, slack_double):
    token = slack_token()
    slack_double.add_token(token, team_id="T0PASTED2", bot_user_id="U0BOTPAS2")

    response = logged_in(client, tenant_a, superuser=False).post(
        URL, {"bot_token": token}, HTTP_HOST=host
    )

    assert response.status_code == 403
    assert not SlackWorkspace.objects.exists()
