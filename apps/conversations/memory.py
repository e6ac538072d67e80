"""An agent's memory of its own answers: a finished answer is kept as knowledge it can draw on
later, unless someone marked it 👎 (then it is forgotten at once, and never kept again)."""

from __future__ import annotations

from apps.conversations.models import AnswerFeedback, Message
from apps.integrations.bases.llm import LLMProvider
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
    return memory_store(
        message=answer,
        agent=agent,
        heading_path=["Earlier conversation", day],
        text=f"Question: {question.text}\n\nAnswer ({agent.name}): {answer.text}",
        llm=llm,
    )


def answer_forget(answer: Message) -> None:
    memory_forget(message=answer)
