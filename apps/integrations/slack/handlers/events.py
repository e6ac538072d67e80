"""Events API listeners: dispatch by event type to the rules and the conversation service."""

from apps.conversations.services import question_receive
from apps.integrations.slack.event_rules import question_from_mention, question_from_message
from apps.integrations.slack.inbound import ROUTE_CONTEXT_KEY
from apps.integrations.slack.services import slack_workspace_disconnect


def on_app_mention(body: dict, event: dict, context) -> None:
    incoming = question_from_mention(body=body, event=event, bot_user_id=context.bot_user_id)
    if incoming:
        question_receive(incoming)


def on_message(body: dict, event: dict, context) -> None:
    incoming = question_from_message(body=body, event=event, bot_user_id=context.bot_user_id)
    if incoming:
        question_receive(incoming)


# Bolt skips authorize for these two events (the token is dead), so the bot and team come from
# the route the view resolved, not from ``context.bot_user_id``.
def on_app_uninstalled(context) -> None:
    route = context[ROUTE_CONTEXT_KEY]
    slack_workspace_disconnect(team_id=route.team_id, reason="app uninstalled")


def on_tokens_revoked(event: dict, context) -> None:
    route = context[ROUTE_CONTEXT_KEY]
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    revoked_bots = tokens.get("bot") if isinstance(tokens.get("bot"), list) else []
    # Only the bot token matters: Jamono holds no user tokens.
    if route.bot_user_id in revoked_bots:
        slack_workspace_disconnect(team_id=route.team_id, reason="bot token revoked")


def register(app) -> None:
    app.event("app_mention")(on_app_mention)
    app.event("message")(on_message)
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
