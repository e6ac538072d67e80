"""What the company's activity feed is told about questions and answers, as they happen.

One function per moment (stored, thinking, answered, failed), each called once by the step
that makes it happen. Lines name the question, its agent (once routed), its channel and the
person's chat id; a preview of the text only outside direct messages (``direct`` says which):
a DM's content serves only its person, and the feed is read by the company's staff.
"""

from __future__ import annotations

from apps.conversations.models import Message
from apps.core.live import activity_preview, activity_publish

DIRECT_CHANNEL_TYPE = "im"


def message_is_direct(message: Message) -> bool:
    return message.channel_type == DIRECT_CHANNEL_TYPE


def question_fields(question: Message) -> dict:
    conversation = question.conversation
    return {
        "question_id": question.pk,
        "agent": conversation.agent.name if conversation is not None else "",
        "channel": question.channel_id,
        "direct": message_is_direct(question),
        "user": question.slack_user_id,
    }


def question_stored_publish(question: Message, *, text: str) -> None:
    """A person asked; ``text`` is the question as people read it (mentions taken out)."""
    direct = message_is_direct(question)
    activity_publish(
        "question", **question_fields(question), preview=activity_preview(text, direct=direct)
    )


def answer_started_publish(question: Message, answer: Message) -> None:
    activity_publish("thinking", **question_fields(question), answer_id=answer.pk)


def answer_finished_publish(question: Message, answer: Message) -> None:
    activity_publish(
        "answer",
        **question_fields(question),
        answer_id=answer.pk,
        answer_ms=answer.answer_latency_ms,
        sources=sum(1 for source in answer.sources if source.get("cited")),
        preview=activity_preview(answer.text, direct=message_is_direct(question)),
    )


def answer_failed_publish(question: Message) -> None:
    activity_publish("failed", **question_fields(question), status=question.status)
