"""What the language model is told: the agent's persona, the company's relevant knowledge as
numbered sources, the thread so far, and the question."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from apps.agents.models import Agent
from apps.conversations.models import Message
from apps.integrations.bases.llm import ChatMessage
from apps.knowledge.selectors import KnowledgeHit

SLACK_GUIDANCE = (
    "You are answering in Slack. Write for a chat thread: short paragraphs, bullet lists, "
    "code in fenced blocks. Answer in the language of the question."
)
SOURCES_GUIDANCE = (
    "Company knowledge relevant to the question follows, as numbered sources. Base your answer "
    "on them and cite them inline as [1], [2]. If they do not answer the question, say so."
)
NO_SOURCES_GUIDANCE = (
    "Nothing in the company's knowledge base matches this question. Say so in one short "
    "sentence first; then answer only from general knowledge, clearly marked as such, and "
    "never invent company-specific facts (names, hosts, procedures, numbers)."
)


def source_label(hit: KnowledgeHit) -> str:
    return " › ".join(hit.heading_path) or hit.document_title or "conversation memory"


def sources_of(hits: list[KnowledgeHit]) -> list[dict]:
    """The numbered sources as stored with the answer and shown under it."""
    return [
        {
            "n": n,
            "chunk_id": hit.chunk_id,
            "title": hit.document_title,
            "heading": source_label(hit),
        }
        for n, hit in enumerate(hits, start=1)
    ]


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


def prompt_build(
    *, agent: Agent, question: Message, knowledge: list[KnowledgeHit] | None = None
) -> list[ChatMessage]:
    system = f"{agent.persona}\n\n{SLACK_GUIDANCE}"
    if knowledge:
        numbered = "\n\n".join(
            f"[{n}] {source_label(hit)}\n{hit.text}" for n, hit in enumerate(knowledge, start=1)
        )
        system += f"\n\n{SOURCES_GUIDANCE}\n\n{numbered}"
    elif knowledge is not None:
        system += f"\n\n{NO_SOURCES_GUIDANCE}"
    messages = [ChatMessage(role="system", content=system)]
    for turn in conversation_history(question, turns=settings.CONVERSATION_HISTORY_TURNS):
        messages.append(ChatMessage(role=turn.role, content=turn.text))
    messages.append(ChatMessage(role="user", content=question.text))
    return messages
