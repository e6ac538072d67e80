"""Events API listeners: dispatch by event type to the rules and the conversation service."""

from apps.conversations.services import slack_question_store
from apps.integrations.slack.event_rules import question_from_mention, question_from_message


def on_app_mention(body: dict, event: dict, context) -> None:
    question = question_from_mention(body=body, event=event, bot_user_id=context.bot_user_id)
    if question:
        slack_question_store(question[0], thread_key=question[1])


def on_message(body: dict, event: dict, context) -> None:
    question = question_from_message(body=body, event=event, bot_user_id=context.bot_user_id)
    if question:
        slack_question_store(question[0], thread_key=question[1])


def register(app) -> None:
    app.event("app_mention")(on_app_mention)
    app.event("message")(on_message)
