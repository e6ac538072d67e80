"""Reads the API serves beyond the domain apps' own selectors: conversations, messages and
actions as listed, and the figures per agent per day. All scoped to the current schema."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.agents.models import Agent
from apps.api.models import ApiKey
from apps.conversations.models import AnswerFeedback, Conversation, Message
from apps.tools.models import ToolCallRecord
from apps.votes.models import Vote

# Slack's channel types of direct messages (one person, or a few: "mpim"): their text serves
# only the people in them, never a company-wide caller.
DIRECT_MESSAGE_CHANNEL_TYPES = ("im", "mpim")


def api_key_list() -> QuerySet[ApiKey]:
    """This company's keys, usable first, newest first (only their prefixes and names: the
    keys themselves are not stored)."""
    return ApiKey.objects.order_by("revoked", "-created")


def conversation_list() -> QuerySet[Conversation]:
    return Conversation.objects.select_related("agent").annotate(message_count=Count("messages"))


def message_list() -> QuerySet[Message]:
    return Message.objects.all()


def action_list() -> QuerySet[ToolCallRecord]:
    return ToolCallRecord.objects.select_related("agent", "conversation")


def vote_list() -> QuerySet[Vote]:
    return Vote.objects.select_related("agent", "conversation", "execution").prefetch_related(
        "ballots"
    )


@dataclass
class AgentDayMetrics:
    agent: str
    date: date
    answers: int = 0
    median_answer_ms: int | None = None
    actions: dict[str, int] = field(default_factory=dict)
    feedback_up: int = 0
    feedback_down: int = 0


def _day_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, tzinfo=zone)
    return start, datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)


def agent_daily_metrics(
    *, since: date, until: date, agent: Agent | None = None
) -> list[AgentDayMetrics]:
    """Per agent and day (days with something only, oldest first): answers given, their median
    time from question to answer, actions done by tool, and 👍/👎 received."""
    start, end = _day_bounds(since, until)
    days: dict[tuple[str, date], AgentDayMetrics] = {}

    def row(slug: str, day: date) -> AgentDayMetrics:
        return days.setdefault((slug, day), AgentDayMetrics(agent=slug, date=day))

    answers = Message.objects.filter(
        role=Message.Role.ASSISTANT,
        status=Message.Status.ANSWERED,
        answered_at__gte=start,
        answered_at__lt=end,
        conversation__isnull=False,
    )
    actions = ToolCallRecord.objects.filter(
        status=ToolCallRecord.Status.DONE, created_at__gte=start, created_at__lt=end
    )
    feedback = AnswerFeedback.objects.filter(updated_at__gte=start, updated_at__lt=end)
    if agent is not None:
        answers = answers.filter(conversation__agent=agent)
        actions = actions.filter(agent=agent)
        feedback = feedback.filter(answer__conversation__agent=agent)

    latencies: dict[tuple[str, date], list[int]] = defaultdict(list)
    for slug, day, latency in answers.annotate(day=TruncDate("answered_at")).values_list(
        "conversation__agent__slug", "day", "answer_latency_ms"
    ):
        row(slug, day).answers += 1
        if latency is not None:
            latencies[(slug, day)].append(latency)
    for key, measured in latencies.items():
        days[key].median_answer_ms = int(statistics.median(measured))

    for slug, day, tool, count in (
        actions.annotate(day=TruncDate("created_at"))
        .values_list("agent__slug", "day", "tool")
        .annotate(count=Count("id"))
    ):
        row(slug, day).actions[tool] = count

    for slug, day, value, count in (
        feedback.annotate(day=TruncDate("updated_at"))
        .values_list("answer__conversation__agent__slug", "day", "value")
        .annotate(count=Count("id"))
    ):
        if slug is None:
            continue
        if value == AnswerFeedback.Value.UP:
            row(slug, day).feedback_up += count
        else:
            row(slug, day).feedback_down += count

    return sorted(days.values(), key=lambda metrics: (metrics.date, metrics.agent))
