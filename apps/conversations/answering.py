"""Answering a stored question in Slack: placeholder, streamed LLM answer, final Block Kit.

Side effects live here (Slack posts, the LLM call), the one place to read what an answer does
to the world. Runs inside the tenant's schema (a Celery task put it there).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.conversations.models import Message
from apps.conversations.prompting import prompt_build, sources_of
from apps.conversations.services import NoAgentAvailable, question_route
from apps.integrations.bases.chat import ChatPoster, ChatPostError
from apps.integrations.bases.llm import LLMProvider, LLMResponseError, LLMUnavailableError
from apps.integrations.slack import message_builder
from apps.integrations.slack.client import SlackChatPoster
from apps.knowledge.selectors import knowledge_relevant
from apps.workspaces.models import SlackWorkspace

logger = logging.getLogger(__name__)

ANSWERABLE = {
    Message.Status.RECEIVED,
    Message.Status.LLM_UNAVAILABLE,
    Message.Status.FAILED,
}
# A question left in ANSWERING longer than this was abandoned by a dead worker.
STALE_ANSWERING_S = 15 * 60


class AnswerError(Exception):
    """The question cannot be answered (gone, not in this tenant, no workspace)."""


@dataclass
class ThrottledUpdater:
    """Edits the placeholder as text streams in, at most once per ``interval_s``."""

    poster: ChatPoster
    channel: str
    ts: str
    agent_name: str
    interval_s: float
    text: str = ""
    last_update: float = 0.0
    updates: int = 0

    def on_delta(self, piece: str) -> None:
        self.text += piece
        now = time.monotonic()
        if now - self.last_update < self.interval_s or not self.text.strip():
            return
        self.last_update = now
        message = message_builder.streaming_message(self.agent_name, self.text)
        try:
            self.poster.update(
                channel=self.channel, ts=self.ts, text=message.text, blocks=message.blocks
            )
            self.updates += 1
        except ChatPostError as exc:
            # A missed intermediate edit is harmless; the final edit carries the whole answer.
            logger.info("Intermediate Slack update skipped: %s", exc.code)


def _workspace_for(team_id: str) -> SlackWorkspace:
    workspace = (
        SlackWorkspace.objects.select_related("tenant")
        .filter(team_id=team_id, is_active=True)
        .first()
    )
    # The workspace table is shared; make sure this team really belongs to this schema.
    if workspace is None or workspace.tenant.schema_name != connection.schema_name:
        raise AnswerError(f"no active Slack workspace {team_id} for this tenant")
    return workspace


def _claim(question_id: int) -> Message | None:
    """Mark the question as being answered, unless it is answered or in progress already."""
    with transaction.atomic():
        question = (
            Message.objects.select_for_update(of=("self",))
            .filter(pk=question_id, role=Message.Role.USER)
            .first()
        )
        if question is None:
            raise AnswerError(f"no question {question_id}")
        stale = (
            question.status == Message.Status.ANSWERING
            and (timezone.now() - question.created_at).total_seconds() > STALE_ANSWERING_S
        )
        if question.status not in ANSWERABLE and not stale:
            return None
        question.status = Message.Status.ANSWERING
        question.attempts += 1
        question.save(update_fields=["status", "attempts"])
        return question


def answer_generate(
    *, question_id: int, llm: LLMProvider | None = None, poster: ChatPoster | None = None
) -> Message | None:
    """Answer one stored question in its Slack thread. Idempotent per question.

    Returns the answer message, or None if another attempt already answered it. On an
    unreachable model, the person is told so, and the question waits for a retry.
    """
    from apps.integrations.llm import llm_provider_get

    question = _claim(question_id)
    if question is None:
        return None
    try:
        question = question_route(question)
    except NoAgentAvailable as exc:
        _fail(question, None, status=Message.Status.FAILED, error="no enabled agent")
        raise AnswerError("no enabled agent in this tenant") from exc
    conversation = question.conversation
    agent = conversation.agent
    if poster is None:
        try:
            workspace = _workspace_for(question.team_id)
        except AnswerError as exc:
            _fail(question, None, status=Message.Status.FAILED, error=str(exc))
            raise
        poster = SlackChatPoster(workspace.bot_token)
    thread_ts = conversation.thread_ts or None

    answer = Message.objects.filter(in_reply_to=question).first()
    thinking = message_builder.thinking_message(agent.name)
    try:
        if answer is None:
            ts = poster.post(
                channel=conversation.channel_id,
                thread_ts=thread_ts,
                text=thinking.text,
                blocks=thinking.blocks,
            )
            answer = Message.objects.create(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                status=Message.Status.ANSWERING,
                channel_id=conversation.channel_id,
                slack_ts=ts,
                text="",
                in_reply_to=question,
            )
        else:
            poster.update(
                channel=conversation.channel_id,
                ts=answer.slack_ts,
                text=thinking.text,
                blocks=thinking.blocks,
            )
    except ChatPostError as exc:
        _fail(question, answer, status=Message.Status.FAILED, error=f"slack: {exc.code}")
        logger.warning("Slack refused the placeholder (%s); question %s", exc.code, question.pk)
        return None

    updater = ThrottledUpdater(
        poster=poster,
        channel=conversation.channel_id,
        ts=answer.slack_ts,
        agent_name=agent.name,
        interval_s=settings.SLACK_UPDATE_INTERVAL_S,
        last_update=time.monotonic(),  # the placeholder was just posted
    )
    llm = llm or llm_provider_get()
    knowledge = knowledge_relevant(question.text, agent=agent, llm=llm)
    try:
        result = llm.chat(
            prompt_build(agent=agent, question=question, knowledge=knowledge),
            model=agent.model,
            temperature=agent.temperature,
            stream=True,
            on_delta=updater.on_delta,
        )
    except LLMUnavailableError as exc:
        notice = message_builder.llm_unavailable_message(agent.name)
        _tell(poster, answer, notice)
        _fail(question, answer, status=Message.Status.LLM_UNAVAILABLE, error=str(exc))
        return answer
    except LLMResponseError as exc:
        notice = message_builder.llm_error_message(agent.name, str(exc)[:200])
        _tell(poster, answer, notice)
        _fail(question, answer, status=Message.Status.FAILED, error=str(exc))
        return answer

    seconds = (timezone.now() - question.created_at).total_seconds()
    sources = sources_of(knowledge)
    final = message_builder.answer_message(
        agent_name=agent.name,
        agent_title=agent.title,
        text=result.text,
        model=result.model or agent.model,
        seconds=seconds,
        sources=[source["heading"] for source in sources],
        answer_id=answer.pk,
    )
    try:
        poster.update(
            channel=conversation.channel_id,
            ts=answer.slack_ts,
            text=final.text,
            blocks=final.blocks,
        )
    except ChatPostError as exc:
        _fail(question, answer, status=Message.Status.FAILED, error=f"slack: {exc.code}")
        return answer

    now = timezone.now()
    answer.text = result.text
    answer.status = Message.Status.ANSWERED
    answer.model = result.model or agent.model
    answer.prompt_tokens = result.prompt_tokens
    answer.completion_tokens = result.completion_tokens
    answer.llm_duration_ms = result.duration_ms
    answer.answer_latency_ms = int((now - question.created_at).total_seconds() * 1000)
    answer.answered_at = now
    answer.sources = sources
    answer.error = ""
    answer.save()
    question.status = Message.Status.ANSWERED
    question.answered_at = now
    question.error = ""
    question.save(update_fields=["status", "answered_at", "error"])
    _remember_later(answer)
    return answer


def _remember_later(answer: Message) -> None:
    from apps.conversations.tasks import answer_remember_task
    from apps.core.tenant_tasks import enqueue_for_tenant

    enqueue_for_tenant(
        answer_remember_task,
        schema_name=connection.schema_name,
        kwargs={"answer_id": answer.pk},
    )


def _tell(poster: ChatPoster, answer: Message, notice) -> None:
    try:
        poster.update(
            channel=answer.channel_id, ts=answer.slack_ts, text=notice.text, blocks=notice.blocks
        )
    except ChatPostError as exc:
        logger.warning("Could not tell the person about the failure: %s", exc.code)


def _fail(question: Message, answer: Message | None, *, status: str, error: str) -> None:
    question.status = status
    question.error = error[:2000]
    question.save(update_fields=["status", "error"])
    if answer is not None:
        answer.status = status
        answer.error = error[:2000]
        answer.save(update_fields=["status", "error"])
