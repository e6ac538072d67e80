"""What the language model is told: the agent's persona, the thread so far, the question."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from apps.agents.models import Agent
from apps.conversations.models import Message
from apps.integrations.bases.llm import ChatMessage

SLACK_GUIDANCE = (
    "You are answering in Slack. Write for a chat thread: short paragraphs, bullet lists, "
    "code in fenced blocks. Answer in the language of the question."
)


def conversation_history(question: Message, *, turns: int) -> list[Message]:
    """The last ``turns`` questions and answers of the thread before ``question``."""
    said = Q(role=Message.Role.USER) | Q(
        role=Message.Role.ASSISTANT, status=Message.Status.ANSWERED
    )
    earlier = (
        Message.objects.filter(said, conversation_id=question.conversation_id, pk__lt=question.pk)
        .exclude(in_reply_to=question)
        .order_by("-pk")[: turns * 2]
    )
    return list(reversed(earlier))


def prompt_build(*, agent: Agent, question: Message) -> list[ChatMessage]:
    messages = [ChatMessage(role="system", content=f"{agent.persona}\n\n{SLACK_GUIDANCE}")]
    for turn in conversation_history(question, turns=settings.CONVERSATION_HISTORY_TURNS):
        messages.append(ChatMessage(role=turn.role, content=turn.text))
    messages.append(ChatMessage(role="user", content=question.text))
    return messages
