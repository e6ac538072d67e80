"""Reads about conversations: questions waiting, the figures of /<agent>-metrics and of the
metrics page, and the conversations page (whose text each person may read)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import (
    Aggregate,
    Count,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import AnswerFeedback, Conversation, Message
from apps.core.privacy import conversation_own, conversation_private, text_visible
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


def conversation_text_visible(*, viewer: str) -> Q:
    """Conversations whose text the dashboard shows to ``viewer`` (``web_chat_person``): not
    private to another person (see ``apps.core.privacy``)."""
    return ~conversation_private() | conversation_own(viewer=viewer)


def conversation_list(
    *, viewer: str, agent: Agent | None = None, query: str = ""
) -> QuerySet[Conversation]:
    """This tenant's conversations, latest activity first, with ``message_count``,
    ``last_status`` (of the latest message) and ``text_visible`` (to ``viewer``).

    ``query`` searches the words of the messages (PostgreSQL full-text, web-search syntax:
    any input is a valid query) of the conversations whose text ``viewer`` may read only.
    """
    visible = conversation_text_visible(viewer=viewer)
    latest_message = Message.objects.filter(conversation=OuterRef("pk")).order_by(
        "-created_at", "-pk"
    )
    conversations = Conversation.objects.select_related("agent").annotate(
        message_count=Count("messages"),
        last_status=Subquery(latest_message.values("status")[:1]),
        text_visible=text_visible(viewer=viewer),
    )
    if agent is not None:
        conversations = conversations.filter(agent=agent)
    if query.strip():
        search = SearchQuery(query, config="english", search_type="websearch")
        matching = (
            Message.objects.annotate(words=SearchVector("text", config="english"))
            .filter(words=search, conversation__isnull=False)
            .values("conversation_id")
        )
        conversations = conversations.filter(visible, pk__in=matching)
    return conversations.order_by("-updated_at", "-pk")


def conversation_get(*, conversation_id: int, viewer: str) -> Conversation | None:
    """One conversation with ``text_visible`` (to ``viewer``), or None."""
    return (
        Conversation.objects.select_related("agent")
        .annotate(text_visible=text_visible(viewer=viewer))
        .filter(pk=conversation_id)
        .first()
    )


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """The conversation's questions and answers in order, answers with their 👍/👎 counts."""
    return conversation.messages.annotate(
        thumbs_up=Count("feedback", filter=Q(feedback__value=AnswerFeedback.Value.UP)),
        thumbs_down=Count("feedback", filter=Q(feedback__value=AnswerFeedback.Value.DOWN)),
    ).order_by("created_at", "pk")


class Median(Aggregate):
    """PostgreSQL's exact median (``percentile_cont(0.5)``) of an expression."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class DayFigures:
    day: date
    answers: int = 0
    median_answer_ms: float | None = None
    thumbs_up: int = 0
    thumbs_down: int = 0

    @property
    def thumbs_up_percent(self) -> float | None:
        votes = self.thumbs_up + self.thumbs_down
        return round(100 * self.thumbs_up / votes, 1) if votes else None


def metrics_days(*, days: int, today: date | None = None) -> list[date]:
    """The last ``days`` days, today included, oldest first (in the site's time zone)."""
    today = today or timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def metrics_since(first_day: date) -> datetime:
    return timezone.make_aware(datetime.combine(first_day, time.min))


def answers_by_day(*, days: list[date], agent: Agent | None = None) -> list[DayFigures]:
    """Per day: answers given, their median answer time, and the 👍/👎 given to answers
    (a person's latest vote, on the day they gave it). Days without any are zeros."""
    since = metrics_since(days[0])
    answers = Message.objects.filter(
        role=Message.Role.ASSISTANT, status=Message.Status.ANSWERED, answered_at__gte=since
    )
    votes = AnswerFeedback.objects.filter(updated_at__gte=since)
    if agent is not None:
        answers = answers.filter(conversation__agent=agent)
        votes = votes.filter(answer__conversation__agent=agent)
    answered = {
        row["day"]: row
        for row in answers.annotate(day=TruncDate("answered_at"))
        .values("day")
        .annotate(count=Count("pk"), median=Median("answer_latency_ms"))
        .order_by()
    }
    voted = {
        row["day"]: row
        for row in votes.annotate(day=TruncDate("updated_at"))
        .values("day")
        .annotate(
            up=Count("pk", filter=Q(value=AnswerFeedback.Value.UP)),
            down=Count("pk", filter=Q(value=AnswerFeedback.Value.DOWN)),
        )
        .order_by()
    }
    return [
        DayFigures(
            day=day,
            answers=answered.get(day, {}).get("count", 0),
            median_answer_ms=answered.get(day, {}).get("median"),
            thumbs_up=voted.get(day, {}).get("up", 0),
            thumbs_down=voted.get(day, {}).get("down", 0),
        )
        for day in days
    ]


def answer_time_median(*, days: list[date], agent: Agent | None = None) -> float | None:
    """The median answer time (ms) over the whole window."""
    answers = Message.objects.filter(
        role=Message.Role.ASSISTANT,
        status=Message.Status.ANSWERED,
        answered_at__gte=metrics_since(days[0]),
    )
    if agent is not None:
        answers = answers.filter(conversation__agent=agent)
    return answers.aggregate(median=Median("answer_latency_ms"))["median"]
