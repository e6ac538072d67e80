"""Rows the tool tests need: a conversation and a question in the current tenant schema."""

from __future__ import annotations

import itertools

from apps.conversations.models import Conversation, Message

_counter = itertools.count(1)


def question_make(agent, *, text="open a ticket", user_id="U0ASKER", channel="C0TOOLS01"):
    n = next(_counter)
    ts = f"1700000{n:03d}.000100"
    conversation = Conversation.objects.create(
        agent=agent,
        team_id="T0TOOLS",
        channel_id=channel,
        channel_type="channel",
        thread_ts=ts,
        started_by=user_id,
    )
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.USER,
        status=Message.Status.ANSWERING,
        slack_user_id=user_id,
        team_id="T0TOOLS",
        channel_id=channel,
        channel_type="channel",
        slack_ts=ts,
        text=text,
    )
