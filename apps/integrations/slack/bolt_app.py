"""The slack-bolt App that dispatches verified, tenant-routed requests to our listeners.

Verification and tenant routing happen before Bolt (``inbound.py`` and the view), so Bolt's
own request verification and URL verification are off; its authorize step reads the
workspace the view already found. ``process_before_response``: a listener stores and
enqueues before the HTTP response leaves, so an acked event is never lost.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult

from apps.integrations.slack.client import slack_web_client
from apps.integrations.slack.handlers import commands, events, interactivity

WORKSPACE_CONTEXT_KEY = "jamono_workspace"


def _authorize(context, enterprise_id, team_id) -> AuthorizeResult | None:
    workspace = context.get(WORKSPACE_CONTEXT_KEY)
    if workspace is None or (team_id and workspace.team_id != team_id):
        return None
    return AuthorizeResult(
        enterprise_id=enterprise_id,
        team_id=workspace.team_id,
        bot_token=workspace.bot_token,
        bot_user_id=workspace.bot_user_id,
    )


@lru_cache(maxsize=4)
def bolt_app_build(api_url: str) -> App:
    """One App per Slack API base URL (tests point it at a local double)."""
    app = App(
        name="jamono",
        logger=logging.getLogger("apps.integrations.slack.bolt"),
        signing_secret="verified-before-bolt",  # noqa: S106 - see the module docstring
        client=slack_web_client(),
        authorize=_authorize,
        process_before_response=True,
        request_verification_enabled=False,
        url_verification_enabled=False,
        token_verification_enabled=False,
        ignoring_self_events_enabled=True,
        ssl_check_enabled=True,
        raise_error_for_unhandled_request=False,
    )
    events.register(app)
    commands.register(app)
    interactivity.register(app)
    return app
