"""Which Slack events are questions for an agent, and in which thread they are answered.

Answered: @mentions, messages in a DM with the bot, and replies in a thread where an agent
already takes part (no need to tag it again). Ignored: bots (including this one), edits,
deletions and other subtypes, and channel chatter that does not involve the agent.
"""

from __future__ import annotations

from apps.conversations.services import IncomingSlackMessage, conversation_exists_for_thread

# Subtypes that are still a person writing; every other subtype (message_changed,
# message_deleted, bot_message, channel_join…) is not a question.
PERSON_SUBTYPES = {None, "file_share", "thread_broadcast"}


def _is_from_a_person(event: dict, bot_user_id: str) -> bool:
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    if event.get("subtype") not in PERSON_SUBTYPES:
        return False
    user = event.get("user")
    return isinstance(user, str) and bool(user) and user != bot_user_id


def _incoming(body: dict, event: dict, channel_type: str) -> IncomingSlackMessage | None:
    channel, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    text = event.get("text")
    return IncomingSlackMessage(
        team_id=body.get("team_id") or event.get("team") or "",
        event_id=body.get("event_id"),
        channel_id=channel,
        channel_type=channel_type,
        user_id=event["user"],
        text=text if isinstance(text, str) else "",
        ts=ts,
        thread_ts=event.get("thread_ts"),
    )


def question_from_mention(
    *, body: dict, event: dict, bot_user_id: str
) -> tuple[IncomingSlackMessage, str] | None:
    if not _is_from_a_person(event, bot_user_id):
        return None
    incoming = _incoming(body, event, event.get("channel_type") or "channel")
    if incoming is None:
        return None
    return incoming, incoming.thread_ts or incoming.ts


def question_from_message(
    *, body: dict, event: dict, bot_user_id: str
) -> tuple[IncomingSlackMessage, str] | None:
    if not _is_from_a_person(event, bot_user_id):
        return None
    channel_type = event.get("channel_type") or ""
    incoming = _incoming(body, event, channel_type)
    if incoming is None:
        return None
    if channel_type == "im":
        return incoming, incoming.thread_ts or ""
    if f"<@{bot_user_id}>" in incoming.text:
        return None  # the app_mention event for the same message answers it
    if incoming.thread_ts and conversation_exists_for_thread(
        channel_id=incoming.channel_id, thread_ts=incoming.thread_ts
    ):
        return incoming, incoming.thread_ts
    return None
