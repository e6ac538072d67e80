"""Reads about conversations: questions waiting, and the figures of /<agent>-metrics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Message
from apps.tools.models import ToolCallRecord

MAX_ANSWER_ATTEMPTS = 5
# A question still RECEIVED after this long lost its task (a worker died, the broker was
# flushed); the retry sweep picks it up.
LOST_TASK_AFTER = timedelta(minutes=5)


def questions_waiting_for_answer(*, now: datetime | None = None) -> QuerySet[Message]:
    """Questions the retry sweep (re)starts: those that met an unreachable model, those whose
    task was lost, and those whose worker died while answering (a stale claim; taken over
    whatever its attempts, so that a last attempt still ends with the thread told)."""
    now = now or timezone.now()
    questions = Message.objects.filter(role=Message.Role.USER)
    retryable = questions.filter(attempts__lt=MAX_ANSWER_ATTEMPTS)
    return (
        retryable.filter(status=Message.Status.LLM_UNAVAILABLE)
        | retryable.filter(status=Message.Status.RECEIVED, created_at__lt=now - LOST_TASK_AFTER)
        | questions.filter(status=Message.Status.ANSWERING, claimed_at__lt=claim_stale_before(now))
    ).order_by("pk")


def claim_stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.ANSWER_CLAIM_TIMEOUT_S)


@dataclass(frozen=True)
class AgentWindowMetrics:
    questions_answered: int
    median_answer_ms: int | None
    actions_taken: int


def agent_metrics(*, agent: Agent, since: datetime) -> AgentWindowMetrics:
    latencies = list(
        Message.objects.filter(
            conversation__agent=agent,
            role=Message.Role.ASSISTANT,
            status=Message.Status.ANSWERED,
            answered_at__gte=since,
        ).values_list("answer_latency_ms", flat=True)
    )
    measured = [value for value in latencies if value is not None]
    return AgentWindowMetrics(
        questions_answered=len(latencies),
        median_answer_ms=int(statistics.median(measured)) if measured else None,
        actions_taken=ToolCallRecord.objects.filter(
            agent=agent, created_at__gte=since, status=ToolCallRecord.Status.DONE
        ).count(),
    )


def agent_last_answer_at(*, agent: Agent) -> datetime | None:
    return Message.objects.filter(
        conversation__agent=agent, role=Message.Role.ASSISTANT, status=Message.Status.ANSWERED
    ).aggregate(last=Max("answered_at"))["last"]


def agent_waiting_questions(*, agent: Agent) -> int:
    return Message.objects.filter(
        conversation__agent=agent,
        role=Message.Role.USER,
        status__in=[
            Message.Status.RECEIVED,
            Message.Status.ANSWERING,
            Message.Status.LLM_UNAVAILABLE,
        ],
    ).count()


def questions_in_line() -> int:
    """This tenant's questions not yet answered nor waiting for the model: stored and not
    started, or being answered (whichever agent: a question gets its agent when started)."""
    return Message.objects.filter(
        role=Message.Role.USER,
        status__in=[Message.Status.RECEIVED, Message.Status.ANSWERING],
    ).count()


def answer_get(*, answer_id: int) -> Message | None:
    """An agent's answer with the question it answers (for remembering it)."""
    return (
        Message.objects.filter(pk=answer_id, role=Message.Role.ASSISTANT)
        .select_related("in_reply_to", "conversation__agent")
        .first()
    )
