"""The slack-bolt App that dispatches verified, tenant-routed requests to our listeners.

Verification, parsing and tenant routing happen before Bolt (``inbound.py`` and the view, which
says why), so Bolt's own request verification and URL verification are off and it is handed
the parsed payload; its authorize step reads the team route the view already found.
``process_before_response``: a listener stores the question (and publishes its answer task)
before the HTTP response leaves, so an acked event is never lost.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult

from apps.integrations.slack.client import slack_web_client
from apps.integrations.slack.handlers import commands, events, interactivity
from apps.integrations.slack.inbound import ROUTE_CONTEXT_KEY


def _authorize(context, enterprise_id, team_id) -> AuthorizeResult | None:
    """The team's identity for Bolt, without its token: listeners only store and enqueue, the
    worker that talks to Slack loads the (encrypted) token itself. Keeps decryption, and the
    secret, out of the request path."""
    route = context.get(ROUTE_CONTEXT_KEY)
    if route is None or (team_id and route.team_id != team_id):
        return None
    return AuthorizeResult(
        enterprise_id=enterprise_id,
        team_id=route.team_id,
        bot_user_id=route.bot_user_id,
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
