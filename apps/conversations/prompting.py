"""What the language model is told: the agent's persona, the company's relevant knowledge as
numbered sources (one per document), the thread so far, and the question, within the agent's
context size; and which of those sources the answer then cites.

The budget: a model reads at most ``agent.context_size`` tokens, prompt and answer together
(Ollama silently drops the *start* of a longer prompt: the persona and the sources). So the
system prompt and the question are always kept; sources go in best first while they fit (the
best one always, cut if it must be); then the thread's history, newest first. Tokens are
estimated from characters, on the safe side.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from apps.agents.models import Agent
from apps.conversations.models import Message
from apps.integrations.bases.llm import ChatMessage
from apps.knowledge.context import ContextSource

SLACK_GUIDANCE = (
    "You are answering in Slack. Write for a chat thread: short paragraphs, bullet lists, "
    "code in fenced blocks. Answer in the language of the question."
)
SOURCES_GUIDANCE = (
    "Company knowledge relevant to the question follows, as numbered sources. Base your answer "
    "on them and cite the ones you use inline as [1], [2]. If they do not answer the question, "
    "say so."
)
NO_SOURCES_GUIDANCE = (
    "Nothing in the company's knowledge base matches this question. Say so in one short "
    "sentence first; then answer only from general knowledge, clearly marked as such, and "
    "never invent company-specific facts (names, hosts, procedures, numbers)."
)
# A token is about four characters of English prose; code, paths and identifiers take more.
CHARS_PER_TOKEN = 3.0
# Each message costs a few tokens of chat template around its text.
TOKENS_PER_MESSAGE = 8
# Room kept for the answer: a quarter of the context, at most this much.
ANSWER_RESERVE_MAX_TOKENS = 1024
CUT_MARK = "\n[…cut to fit]"
CITATION_RE = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")


def tokens_estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE


@dataclass(frozen=True)
class Prompt:
    messages: list[ChatMessage]
    sources: list[ContextSource]  # those in the prompt, numbered [1], [2], … in this order


def prompt_budget(agent: Agent, *, reserved_tokens: int = 0) -> int:
    """Tokens the prompt may take: the context, less room for the answer and ``reserved``
    (tool descriptions, which the server adds to the prompt)."""
    answer_room = min(ANSWER_RESERVE_MAX_TOKENS, agent.context_size // 4)
    return agent.context_size - answer_room - reserved_tokens


def prompt_build(
    *,
    agent: Agent,
    question: Message,
    knowledge: list[ContextSource] | None = None,
    extra_guidance: str = "",
    reserved_tokens: int = 0,
) -> Prompt:
    """The messages for the model. ``knowledge=None``: retrieval was not run (no guidance
    about sources); ``[]``: nothing matched (the model is told to say so)."""
    base = f"{agent.persona}\n\n{SLACK_GUIDANCE}"
    if extra_guidance:
        base += f"\n\n{extra_guidance}"
    budget = prompt_budget(agent, reserved_tokens=reserved_tokens)
    used = tokens_estimate(base) + tokens_estimate(question.text)
    system, included = base, []
    if knowledge:
        system += f"\n\n{SOURCES_GUIDANCE}"
        used += tokens_estimate(SOURCES_GUIDANCE)
        blocks, included, used = _sources_fitted(knowledge, budget=budget, used=used)
        system += "\n\n" + "\n\n".join(blocks)
    elif knowledge is not None:
        system += f"\n\n{NO_SOURCES_GUIDANCE}"
        used += tokens_estimate(NO_SOURCES_GUIDANCE)
    history = _history_fitted(question, budget=budget - used)
    return Prompt(
        messages=[
            ChatMessage(role="system", content=system),
            *history,
            ChatMessage(role="user", content=question.text),
        ],
        sources=included,
    )


def _sources_fitted(
    knowledge: list[ContextSource], *, budget: int, used: int
) -> tuple[list[str], list[ContextSource], int]:
    blocks: list[str] = []
    included: list[ContextSource] = []
    for source in knowledge:
        block = f"[{len(included) + 1}] {source.label}\n{source.text}"
        cost = tokens_estimate(block)
        if used + cost > budget:
            if included:
                continue  # a smaller one further down may still fit
            # The best source always goes in, cut to what is left.
            room = max(0, int((budget - used - TOKENS_PER_MESSAGE) * CHARS_PER_TOKEN))
            block = block[: max(room - len(CUT_MARK), 0)] + CUT_MARK
            cost = tokens_estimate(block)
        blocks.append(block)
        included.append(source)
        used += cost
    return blocks, included, used


def _history_fitted(question: Message, *, budget: int) -> list[ChatMessage]:
    """The thread's earlier turns that fit, newest kept first, in their order."""
    kept: list[ChatMessage] = []
    for turn in reversed(conversation_history(question, turns=settings.CONVERSATION_HISTORY_TURNS)):
        cost = tokens_estimate(turn.text)
        if cost > budget:
            break
        kept.append(ChatMessage(role=turn.role, content=turn.text))
        budget -= cost
    return list(reversed(kept))


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


def cited_numbers(text: str, *, count: int) -> list[int]:
    """The source numbers ``text`` cites ([2], [1, 3]), in order of first citation, among
    1..``count``."""
    cited: list[int] = []
    for group in CITATION_RE.findall(text):
        for number in re.split(r"\s*[,;]\s*", group):
            n = int(number)
            if 1 <= n <= count and n not in cited:
                cited.append(n)
    return cited


def sources_of(sources: list[ContextSource], *, answer_text: str) -> list[dict]:
    """The prompt's sources as stored with the answer: each with its number and whether the
    answer cited it. With sources but no citation, the best one counts as cited (the answer
    drew on it without saying so)."""
    cited = cited_numbers(answer_text, count=len(sources)) or ([1] if sources else [])
    return [
        {
            "n": n,
            "kind": source.kind,
            "title": source.title,
            "section": source.section,
            "heading": source.label,
            "document_id": source.document_id,
            "document_key": source.document_key,
            "chunk_ids": list(source.chunk_ids),
            "channel": source.memory_channel,
            "date": source.memory_date.isoformat() if source.memory_date else "",
            "cited": n in cited,
        }
        for n, source in enumerate(sources, start=1)
    ]
