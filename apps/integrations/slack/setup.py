"""Connecting Slack from the company's own pages, for a self-hoster without "Add to Slack":
the Slack app manifest of this install (events, commands, interactivity, scopes, URLs filled
in), to paste into Slack's "create an app from a manifest", then the bot token, from which
Slack itself says the team and the bot user (``auth.test``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from apps.agents.selectors import agent_list
from apps.integrations.bases.chat import ChatPostError
from apps.integrations.slack.client import slack_call, slack_web_client
from apps.integrations.slack.credentials import bot_token_problem
from apps.integrations.slack.services import (
    WorkspaceResult,
    WorkspaceValidationError,
    slack_workspace_connect,
)
from apps.integrations.slack.views import SLACK_EVENTS_PATH

SLASH_COMMANDS = {
    "status": "Is the agent there, and what is it working on",
    "help": "What the agent does and how to ask it",
    "metrics": "Questions answered, answer time, actions taken",
}
BOT_EVENTS = ["app_mention", "message.im", "message.channels", "message.groups"]


def slack_app_manifest(*, base_url: str, app_name: str = "Jamono") -> dict:
    """The manifest of a Slack app wired to this install at ``base_url`` (its public
    address: Slack must reach it), with a slash command per agent and verb."""
    base_url = base_url.rstrip("/")
    events_url = f"{base_url}{SLACK_EVENTS_PATH}"
    commands = [
        {
            "command": f"/{agent.command_prefix}-{verb}",
            "url": events_url,
            "description": f"{agent.name}: {description}",
            "should_escape": False,
        }
        for agent in agent_list(enabled_only=True)
        for verb, description in SLASH_COMMANDS.items()
    ]
    return {
        "display_information": {
            "name": app_name,
            "description": "AI colleagues: NOX, ATLAS and CIRRUS",
        },
        "features": {
            "bot_user": {"display_name": app_name, "always_online": True},
            "app_home": {"messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
            "slash_commands": commands,
        },
        "oauth_config": {
            "redirect_urls": [f"{base_url}/slack/oauth_redirect"],
            "scopes": {"bot": list(settings.SLACK_BOT_SCOPES)},
        },
        "settings": {
            "event_subscriptions": {"request_url": events_url, "bot_events": BOT_EVENTS},
            "interactivity": {"is_enabled": True, "request_url": events_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


@dataclass(frozen=True)
class TokenIdentity:
    team_id: str
    team_name: str
    bot_user_id: str


def slack_token_identity(bot_token: str) -> TokenIdentity:
    """Who a bot token is, as Slack says (``auth.test``); ``WorkspaceValidationError`` with a
    plain reason when the token is malformed or Slack refuses it. The token is never echoed."""
    problem = bot_token_problem(bot_token.strip())
    if problem:
        raise WorkspaceValidationError(problem)
    try:
        response = slack_call(slack_web_client(bot_token.strip()).auth_test)
    except ChatPostError as exc:
        raise WorkspaceValidationError(f"Slack refused the token ({exc.code})") from None
    team_id, bot_user_id = str(response.get("team_id") or ""), str(response.get("user_id") or "")
    if not team_id or not bot_user_id:
        raise WorkspaceValidationError("Slack did not say which workspace this token is for")
    return TokenIdentity(
        team_id=team_id, team_name=str(response.get("team") or ""), bot_user_id=bot_user_id
    )


@transaction.atomic
def slack_connect_with_token(*, schema_name: str, bot_token: str) -> WorkspaceResult:
    identity = slack_token_identity(bot_token)
    return slack_workspace_connect(
        schema_name=schema_name,
        team_id=identity.team_id,
        bot_token=bot_token.strip(),
        bot_user_id=identity.bot_user_id,
        team_name=identity.team_name,
    )
