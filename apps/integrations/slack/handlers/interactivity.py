"""Interactivity payloads (buttons, menus): dispatch by action id."""

import logging
import re

from apps.conversations.services import FeedbackError, answer_feedback_record
from apps.integrations.slack.inbound import team_id_of
from apps.integrations.slack.message_builder import (
    FEEDBACK_DOWN_ACTION,
    FEEDBACK_ELEMENT_ACTION,
    FEEDBACK_UP_ACTION,
)
from apps.votes.messages import VOTE_APPROVE_ACTION, VOTE_REJECT_ACTION
from apps.votes.services import vote_click

logger = logging.getLogger(__name__)

FEEDBACK_VALUES = {FEEDBACK_UP_ACTION: "up", FEEDBACK_DOWN_ACTION: "down"}


def feedback_of(action: dict) -> tuple[str, str] | None:
    """(verdict, answer id) from a 👍/👎 click: classic buttons carry the verdict in the action
    id, Slack's feedback_buttons element in its value ("up:<id>"). None if malformed."""
    value = action.get("value")
    if not isinstance(value, str):
        return None
    if action.get("action_id") == FEEDBACK_ELEMENT_ACTION:
        verdict, _, answer_id = value.partition(":")
    else:
        verdict, answer_id = FEEDBACK_VALUES.get(action.get("action_id"), ""), value
    if verdict not in {"up", "down"} or not answer_id.isdigit():
        return None
    return verdict, answer_id


def on_answer_feedback(ack, body: dict, action: dict) -> None:
    ack()
    feedback = feedback_of(action)
    if feedback is None:
        logger.warning("Feedback with a malformed answer id ignored")
        return
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    channel_id, message_ts = clicked_message(body)
    try:
        answer_feedback_record(
            answer_id=int(feedback[1]),
            slack_user_id=str(user.get("id") or ""),
            value=feedback[0],
            channel_id=channel_id,
            message_ts=message_ts,
        )
    except FeedbackError as exc:
        logger.warning("Feedback ignored: %s", exc)


def clicked_message(body: dict) -> tuple[str, str]:
    """(channel, ts) of the message whose button was clicked ("" when Slack did not say)."""
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    channel_id = container.get("channel_id") or channel.get("id") or ""
    message_ts = container.get("message_ts") or message.get("ts") or ""
    return str(channel_id), str(message_ts)


VOTE_CHOICES = {VOTE_APPROVE_ACTION: "approve", VOTE_REJECT_ACTION: "reject"}


def on_vote_click(ack, body: dict, action: dict) -> None:
    """Approve / Reject on a vote: the votes decide; a refusal (not a voter, unknown vote)
    is told to the person who clicked, by a worker."""
    ack()
    value = action.get("value")
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    channel_id, message_ts = clicked_message(body)
    vote_click(
        team_id=team_id_of(body) or "",
        vote_id=int(value) if isinstance(value, str) and value.isdigit() else None,
        voter=str(user.get("id") or ""),
        choice=VOTE_CHOICES.get(action.get("action_id"), ""),
        channel_id=channel_id,
        message_ts=message_ts,
        thread_ts=str(container.get("thread_ts") or ""),
    )


def on_any_other_interaction(ack) -> None:
    ack()


def register(app) -> None:
    app.action(FEEDBACK_UP_ACTION)(on_answer_feedback)
    app.action(FEEDBACK_DOWN_ACTION)(on_answer_feedback)
    app.action(FEEDBACK_ELEMENT_ACTION)(on_answer_feedback)
    app.action(VOTE_APPROVE_ACTION)(on_vote_click)
    app.action(VOTE_REJECT_ACTION)(on_vote_click)
    app.action(re.compile(".*"))(on_any_other_interaction)
    app.shortcut(re.compile(".*"))(on_any_other_interaction)
    app.view(re.compile(".*"))(on_any_other_interaction)
