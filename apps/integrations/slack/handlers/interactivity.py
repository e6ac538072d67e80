"""Interactivity payloads (buttons, menus): dispatch by action id."""

import logging
import re

from apps.conversations.services import FeedbackError, answer_feedback_record
from apps.integrations.slack.message_builder import FEEDBACK_DOWN_ACTION, FEEDBACK_UP_ACTION

logger = logging.getLogger(__name__)

FEEDBACK_VALUES = {FEEDBACK_UP_ACTION: "up", FEEDBACK_DOWN_ACTION: "down"}


def on_answer_feedback(ack, body: dict, action: dict) -> None:
    ack()
    try:
        answer_id = int(action.get("value", ""))
    except ValueError:
        logger.warning("Feedback with a malformed answer id ignored")
        return
    user_id = (body.get("user") or {}).get("id", "")
    try:
        answer_feedback_record(
            answer_id=answer_id,
            slack_user_id=user_id,
            value=FEEDBACK_VALUES[action["action_id"]],
        )
    except FeedbackError as exc:
        logger.warning("Feedback ignored: %s", exc)


def on_any_other_interaction(ack) -> None:
    ack()


def register(app) -> None:
    app.action(FEEDBACK_UP_ACTION)(on_answer_feedback)
    app.action(FEEDBACK_DOWN_ACTION)(on_answer_feedback)
    app.action(re.compile(".*"))(on_any_other_interaction)
    app.shortcut(re.compile(".*"))(on_any_other_interaction)
    app.view(re.compile(".*"))(on_any_other_interaction)
