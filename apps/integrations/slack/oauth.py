"""The Slack side of "Add to Slack" (OAuth v2): the authorize URL and the code exchange.

https://docs.slack.dev/authentication/installing-with-oauth. Nothing here touches the
database; ``apps.integrations.slack.install`` decides what an install does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from apps.integrations.slack.credentials import bot_token_problem

# Seconds to wait for oauth.v2.access; the person is waiting on the redirect page.
OAUTH_ACCESS_TIMEOUT_S = 15


class SlackOAuthError(Exception):
    """Slack refused the exchange or answered something that is not a bot install.

    ``error`` is Slack's error code or a short reason of ours; never a token or a secret.
    """

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class SlackBotInstall:
    team_id: str
    team_name: str
    bot_user_id: str
    app_id: str
    scopes: str
    # Excluded from repr: this object may be logged or shown in a traceback.
    bot_token: str = field(repr=False)


def slack_oauth_missing_settings() -> list[str]:
    """Names of the settings "Add to Slack" needs that are empty."""
    return [
        name
        for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
        if not getattr(settings, name, "")
    ]


def slack_authorize_url(*, state: str, redirect_uri: str) -> str:
    """Slack's consent page for a bot install with our scopes, carrying ``state``."""
    query = urlencode(
        {
            "client_id": settings.SLACK_CLIENT_ID,
            "scope": ",".join(settings.SLACK_BOT_SCOPES),
            "state": state,
            "redirect_uri": redirect_uri,
        }
    )
    return f"{settings.SLACK_OAUTH_AUTHORIZE_URL}?{query}"


def slack_oauth_access(*, code: str, redirect_uri: str) -> SlackBotInstall:
    """Exchange the code Slack sent to the redirect URL for the bot install (oauth.v2.access).

    Raises ``SlackOAuthError`` if Slack refuses (``invalid_code``…) or the reply is not a bot
    install of one workspace.
    """
    client = WebClient(base_url=settings.SLACK_API_URL, timeout=OAUTH_ACCESS_TIMEOUT_S)
    try:
        reply = client.oauth_v2_access(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET,
            code=code,
            redirect_uri=redirect_uri,
        )
    except SlackApiError as exc:
        # Chaining is cut: the SDK error's request carries the client secret.
        raise SlackOAuthError(str(exc.response.get("error") or "slack_error")) from None
    except (SlackClientError, OSError):
        raise SlackOAuthError("slack_unreachable") from None
    return _bot_install_from_reply(reply.data if isinstance(reply.data, dict) else {})


def _bot_install_from_reply(reply: dict) -> SlackBotInstall:
    if reply.get("is_enterprise_install"):
        raise SlackOAuthError("enterprise_install_not_supported")
    if reply.get("token_type") != "bot":
        raise SlackOAuthError("not_a_bot_token")
    team = reply.get("team") or {}
    install = SlackBotInstall(
        team_id=str(team.get("id") or ""),
        team_name=str(team.get("name") or ""),
        bot_user_id=str(reply.get("bot_user_id") or ""),
        app_id=str(reply.get("app_id") or ""),
        scopes=str(reply.get("scope") or ""),
        bot_token=str(reply.get("access_token") or ""),
    )
    if bot_token_problem(install.bot_token):
        raise SlackOAuthError("not_a_bot_token")
    if not install.team_id:
        raise SlackOAuthError("missing_team")
    if not install.bot_user_id:
        raise SlackOAuthError("missing_bot_user")
    return install
