"""Reads of the dashboard's home page: the latest activity lines, from the database, in the
shape of the live events (``apps.conversations.activity``, ``apps.tools.activity``,
``apps.votes.activity``) so that the page and its socket show the same lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.conversations.activity import DIRECT_CHANNEL_TYPE, message_is_direct
from apps.conversations.models import Message
from apps.conversations.services import question_text_clean
from apps.core.live import activity_preview
from apps.tools.models import ToolCallRecord
from apps.votes.activity import vote_is_private
from apps.votes.models import Vote
from apps.votes.selectors import vote_count

ACTIVITY_LINES = 30


@dataclass(frozen=True)
class ActivityLine:
    kind: str  # question | answer | tool_call | vote (the live feed's kinds)
    at: datetime
    agent: str = ""
    channel: str = ""
    direct: bool = False
    user: str = ""
    preview: str = ""  # empty for a direct message: only its person may read it
    status: str = ""  # the question's or the tool call's, as the model names it
    status_label: str = ""
    tool: str = ""
    answer_ms: int | None = None
    sources: int | None = None
    approvals: int | None = None  # a vote's tally: approvals of needed, rejections
    rejections: int | None = None
    needed: int | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.answer_ms is None else self.answer_ms / 1000


def _agent_name(message: Message) -> str:
    return message.conversation.agent.name if message.conversation_id else ""


def _question_lines(limit: int) -> list[ActivityLine]:
    questions = (
        Message.objects.filter(role=Message.Role.USER)
        .select_related("conversation__agent")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        ActivityLine(
            kind="question",
            at=question.created_at,
            agent=_agent_name(question),
            channel=question.channel_id,
            direct=message_is_direct(question),
            user=question.slack_user_id,
            preview=activity_preview(
                question_text_clean(question.text), direct=message_is_direct(question)
            ),
            status=question.status,
            status_label=question.get_status_display(),
        )
        for question in questions
    ]


def _answer_lines(limit: int) -> list[ActivityLine]:
    answers = (
        Message.objects.filter(role=Message.Role.ASSISTANT, status=Message.Status.ANSWERED)
        .exclude(answered_at=None)
        .select_related("conversation__agent", "in_reply_to")
        .order_by("-answered_at", "-id")[:limit]
    )
    lines = []
    for answer in answers:
        question = answer.in_reply_to
        # An answer's own channel type is not stored: its question's is (else its
        # conversation's; with neither, it is treated as private).
        if question is not None:
            direct = message_is_direct(question)
        elif answer.conversation_id is not None:
            direct = answer.conversation.channel_type == DIRECT_CHANNEL_TYPE
        else:
            direct = True
        lines.append(
            ActivityLine(
                kind="answer",
                at=answer.answered_at,
                agent=_agent_name(answer),
                channel=answer.channel_id,
                direct=direct,
                user=question.slack_user_id if question is not None else "",
                preview=activity_preview(answer.text, direct=direct),
                answer_ms=answer.answer_latency_ms,
                sources=sum(1 for source in answer.sources if source.get("cited")),
            )
        )
    return lines


def _tool_call_lines(limit: int) -> list[ActivityLine]:
    records = (
        ToolCallRecord.objects.exclude(finished_at=None)
        .select_related("agent")
        .order_by("-finished_at", "-id")[:limit]
    )
    return [
        ActivityLine(
            kind="tool_call",
            at=record.finished_at,
            agent=record.agent.name,
            tool=record.tool,
            status=record.status,
            status_label=record.get_status_display(),
        )
        for record in records
    ]


def _vote_lines(limit: int) -> list[ActivityLine]:
    """Each recent vote once, in its current state, at its latest moment (closed, or opened)."""
    votes = (
        Vote.objects.select_related("agent", "conversation")
        .prefetch_related("ballots")
        .order_by("-created_at", "-id")[:limit]
    )
    lines = []
    for vote in votes:
        count = vote_count(vote)
        lines.append(
            ActivityLine(
                kind="vote",
                at=vote.closed_at or vote.created_at,
                agent=vote.agent.name,
                direct=vote_is_private(vote),
                user=vote.requested_by,
                tool=vote.tool,
                status=vote.status,
                status_label=vote.get_status_display(),
                approvals=count.approvals,
                rejections=count.rejections,
                needed=count.needed,
            )
        )
    return lines


def activity_recent(limit: int = ACTIVITY_LINES) -> list[ActivityLine]:
    """The latest ``limit`` questions, answers, finished tool calls and votes of the current
    company, newest first."""
    lines = (
        _question_lines(limit) + _answer_lines(limit) + _tool_call_lines(limit) + _vote_lines(limit)
    )
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:limit]
