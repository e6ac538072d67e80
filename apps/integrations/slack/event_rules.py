"""Which Slack events are a person writing to an agent, read into ``IncomingMessage``.

Kept: @mentions, messages in a DM with the bot, and channel messages in a thread (the domain
decides whether an agent takes part in that thread: ``apps.conversations.services``).
Ignored here: bots (including this one), edits, deletions and other subtypes, top-level
channel chatter, and a channel message that tags the bot (its ``app_mention`` event, sent for
the same message, is the one answered). Pure rules: no database, no I/O.
"""

from __future__ import annotations

from apps.integrations.bases.chat import IncomingMessage
from apps.integrations.slack.inbound import team_id_of

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


def _incoming(
    body: dict, event: dict, *, channel_type: str, mentions_bot: bool
) -> IncomingMessage | None:
    channel, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    text = event.get("text")
    thread_ts = event.get("thread_ts")
    event_id = body.get("event_id")
    return IncomingMessage(
        team_id=team_id_of(body) or team_id_of(event) or "",
        event_id=event_id if isinstance(event_id, str) and event_id else None,
        channel_id=channel,
        channel_type=channel_type,
        user_id=event["user"],
        text=text if isinstance(text, str) else "",
        ts=ts,
        thread_ts=thread_ts if isinstance(thread_ts, str) and thread_ts else None,
        mentions_bot=mentions_bot,
    )


def question_from_mention(*, body: dict, event: dict, bot_user_id: str) -> IncomingMessage | None:
    if not _is_from_a_person(event, bot_user_id):
        return None
    channel_type = event.get("channel_type") or "channel"
    return _incoming(body, event, channel_type=channel_type, mentions_bot=True)


def question_from_message(*, body: dict, event: dict, bot_user_id: str) -> IncomingMessage | None:
    if not _is_from_a_person(event, bot_user_id):
        return None
    channel_type = event.get("channel_type") or ""
    incoming = _incoming(body, event, channel_type=channel_type, mentions_bot=False)
    if incoming is None or incoming.is_direct:
        return incoming
    if f"<@{bot_user_id}>" in incoming.text:
        return None  # the app_mention event for the same message answers it
    # In a channel only a thread reply may be a follow-up; the domain checks the thread.
    return incoming if incoming.thread_ts else None
