"""An agent's memory of its own answers: a finished answer is kept as knowledge it can draw on
later, unless someone marked it 👎 (then it is forgotten at once, and never kept again)."""

from __future__ import annotations

from apps.conversations.models import AnswerFeedback, Message
from apps.integrations.bases.llm import LLMProvider
from apps.knowledge.models import Chunk
from apps.knowledge.services import memory_forget, memory_store


def answer_remember(answer: Message, *, llm: LLMProvider | None = None):
    """Keep a finished question-and-answer as memory; the memory chunk, or None when the
    answer is not one to remember. Idempotent (one memory per answer)."""
    if answer.role != Message.Role.ASSISTANT or answer.status != Message.Status.ANSWERED:
        return None
    if answer.feedback.filter(value=AnswerFeedback.Value.DOWN).exists():
        return None
    question = answer.in_reply_to
    agent = answer.conversation.agent
    day = answer.answered_at.date().isoformat() if answer.answered_at else ""
    audience, audience_id = memory_audience(question)
    return memory_store(
        message=answer,
        agent=agent,
        heading_path=["Earlier conversation", day],
        text=f"Question: {question.text}\n\nAnswer ({agent.name}): {answer.text}",
        audience=audience,
        audience_id=audience_id,
        llm=llm,
    )


# Slack channel types whose words stay among their members.
PRIVATE_CHANNEL_TYPES = {"group", "mpim"}


def memory_audience(question: Message) -> tuple[str, str]:
    """Whom the memory of this question may serve: what was said in a DM serves that person
    only, in a private channel that channel only, in a public channel the company."""
    if question.channel_type == "im":
        return Chunk.Audience.PERSON, question.slack_user_id
    if question.channel_type in PRIVATE_CHANNEL_TYPES:
        return Chunk.Audience.CHANNEL, question.channel_id
    return Chunk.Audience.TENANT, ""


def answer_forget(answer: Message) -> None:
    memory_forget(message=answer)
