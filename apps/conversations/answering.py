"""Answering a stored question, as named steps:

claim → route → (reach the chat) → start the answer → retrieve → build the prompt → stream →
finish → remember.

Each step is a function with its own test. Side effects live here (chat posts, the LLM call),
the one place to read what an answer does to the world; the chat platform is reached through
``apps.integrations.bases.chat`` only. Runs inside the tenant's schema (a Celery task put it
there).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_tenant_domain_model

from apps.conversations import replies
from apps.conversations.activity import (
    answer_failed_publish,
    answer_finished_publish,
    answer_started_publish,
)
from apps.conversations.models import Message
from apps.conversations.prompting import prompt_build, sources_of
from apps.conversations.selectors import MAX_ANSWER_ATTEMPTS, claim_stale_before
from apps.conversations.services import NoAgentAvailable, question_route
from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.chat import (
    AnswerStream,
    Chat,
    ChatPostError,
    ChatThread,
    ChatUnavailable,
    chat_for_team,
)
from apps.integrations.bases.llm import (
    ChatResult,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    llm_provider_get,
)
from apps.knowledge.context import ContextSource, knowledge_context
from apps.knowledge.selectors import Asker
from apps.tools.loop import tool_loop_run, tools_guidance, tools_tokens_estimate
from apps.tools.registry import Tool, ToolContext
from apps.tools.selectors import tools_offered
from apps.votes.services import vote_gate

logger = logging.getLogger(__name__)

ANSWERABLE = {
    Message.Status.RECEIVED,
    Message.Status.LLM_UNAVAILABLE,
    Message.Status.FAILED,
}
# The Celery task that remembers a finished answer (by name: services never import tasks).
ANSWER_REMEMBER_TASK = "apps.conversations.tasks.answer_remember_task"


class AnswerError(Exception):
    """The question cannot be answered (gone, not in this tenant, no workspace)."""


def answer_generate(
    *,
    question_id: int,
    llm: LLMProvider | None = None,
    chat: Chat | None = None,
    task_id: str = "",
) -> Message | None:
    """Answer one stored question in its thread. Idempotent per question.

    Returns the answer message, or None if another attempt already answered it (or the chat
    refused the answer's first message). On an unreachable model the person is told so and
    the question waits for a retry.
    """
    question = answer_claim(question_id, task_id=task_id)
    if question is None:
        return None
    question = answer_route(question)
    chat = chat or answer_chat(question)
    agent = question.conversation.agent
    try:
        stream, answer = answer_start(chat, question)
    except ChatPostError as exc:
        answer_fail(question, None, status=Message.Status.FAILED, error=f"slack: {exc.code}")
        logger.warning(
            "The chat refused the answer's start (%s); question %s", exc.code, question.pk
        )
        return None
    llm = llm or llm_provider_get()
    knowledge = answer_retrieve(question, llm=llm, chat=chat)
    tools = tools_offered(agent, has_chat=True)
    try:
        if tools:
            draft = answer_act_with_tools(
                question, knowledge=knowledge, llm=llm, chat=chat, stream=stream, tools=tools
            )
        else:
            draft = answer_stream_from_model(question, knowledge=knowledge, llm=llm, stream=stream)
    except LLMUnavailableError as exc:
        if question.attempts >= MAX_ANSWER_ATTEMPTS:
            answer_give_up(question, answer, stream, error=str(exc))
            return answer
        answer_tell(stream, replies.llm_unavailable(agent.name))
        answer_fail(question, answer, status=Message.Status.LLM_UNAVAILABLE, error=str(exc))
        return answer
    except LLMResponseError as exc:
        answer_tell(stream, replies.llm_error(agent.name, str(exc)[:200]))
        answer_fail(question, answer, status=Message.Status.FAILED, error=str(exc))
        return answer
    try:
        answer_finish(question, answer, draft=draft, stream=stream, chat=chat)
    except ChatPostError as exc:
        answer_fail(question, answer, status=Message.Status.FAILED, error=f"slack: {exc.code}")
        return answer
    answer_remember_later(answer)
    return answer


# --- claim → route → chat ---------------------------------------------------------------------


def answer_claim(question_id: int, *, task_id: str = "") -> Message | None:
    """Mark the question as being answered (by ``task_id``, now), unless it is answered, or
    being answered by a live worker. A claim is taken over when it is stale (older than
    ANSWER_CLAIM_TIMEOUT_S: its worker died) or held by this very task (delivered again after
    its worker died: answer tasks are acks_late)."""
    with transaction.atomic():
        question = (
            Message.objects.select_for_update(of=("self",))
            .filter(pk=question_id, role=Message.Role.USER)
            .first()
        )
        if question is None:
            raise AnswerError(f"no question {question_id}")
        if question.status not in ANSWERABLE and not _claim_abandoned(question, task_id):
            return None
        question.status = Message.Status.ANSWERING
        question.attempts += 1
        question.claimed_at = timezone.now()
        question.claim_task_id = task_id
        question.save(update_fields=["status", "attempts", "claimed_at", "claim_task_id"])
        return question


def _claim_abandoned(question: Message, task_id: str) -> bool:
    if question.status != Message.Status.ANSWERING:
        return False
    if task_id and task_id == question.claim_task_id:
        return True
    claimed_at = question.claimed_at or question.created_at
    return claimed_at < claim_stale_before(timezone.now())


def answer_route(question: Message) -> Message:
    """Give the question its conversation and agent; a tenant without an enabled agent
    fails the question."""
    try:
        return question_route(question)
    except NoAgentAvailable as exc:
        answer_fail(question, None, status=Message.Status.FAILED, error="no enabled agent")
        raise AnswerError("no enabled agent in this tenant") from exc


def answer_chat(question: Message) -> Chat:
    """The chat platform the question came from; a disconnected workspace fails it."""
    try:
        return chat_for_team(question.team_id)
    except ChatUnavailable as exc:
        answer_fail(question, None, status=Message.Status.FAILED, error=str(exc))
        raise AnswerError(str(exc)) from exc


def question_thread(question: Message) -> ChatThread:
    conversation = question.conversation
    return ChatThread(
        channel=conversation.channel_id,
        thread_ts=conversation.thread_ts or None,
        team_id=question.team_id,
        user_id=question.slack_user_id,
        is_direct=question.channel_type == "im",
    )


# --- start → retrieve → prompt → stream -------------------------------------------------------


def answer_start(chat: Chat, question: Message) -> tuple[AnswerStream, Message]:
    """Show the person an answer is coming ("is thinking…"), and start its message: a new
    one, or the one an earlier attempt posted (a retry never posts a second answer)."""
    agent = question.conversation.agent
    thread = question_thread(question)
    answer = Message.objects.filter(in_reply_to=question).first()
    chat.status_set(thread, replies.thinking(agent.name).text)
    stream = chat.answer_stream(
        thread,
        placeholder=replies.thinking(agent.name),
        progress_note=replies.writing_note(agent.name),
        resume_ts=answer.slack_ts if answer is not None else None,
    )
    if answer is None:
        answer = Message.objects.create(
            conversation=question.conversation,
            role=Message.Role.ASSISTANT,
            status=Message.Status.ANSWERING,
            channel_id=thread.channel,
            slack_ts=stream.ts,
            text="",
            in_reply_to=question,
        )
    answer_started_publish(question, answer)
    return stream, answer


def answer_retrieve(question: Message, *, llm: LLMProvider, chat: Chat) -> list[ContextSource]:
    """The company documents and earlier answers relevant to the question, for its agent
    and the person asking (searched with the chat's markup taken out of the question)."""
    return knowledge_context(
        chat.searchable_text(question.text),
        agent=question.conversation.agent,
        llm=llm,
        asker=Asker(channel_id=question.channel_id, user_id=question.slack_user_id),
    )


@dataclass(frozen=True)
class Draft:
    """What the model produced for the answer: its text and figures, the sources it was
    given (numbered as in the prompt), and one line per action it took."""

    result: ChatResult
    sources: list[ContextSource]
    actions: list[str] = field(default_factory=list)


def answer_stream_from_model(
    question: Message, *, knowledge: list[ContextSource], llm: LLMProvider, stream: AnswerStream
) -> Draft:
    """Build the prompt and let the model write into the answer's stream."""
    agent = question.conversation.agent
    heartbeat = ClaimHeartbeat(question)
    prompt = prompt_build(agent=agent, question=question, knowledge=knowledge)

    def on_delta(piece: str) -> None:
        stream.append(piece)
        heartbeat.beat()

    result = llm.chat(
        prompt.messages,
        model=agent.model,
        temperature=agent.temperature,
        stream=True,
        on_delta=on_delta,
        context_size=agent.context_size,
    )
    return Draft(result=result, sources=prompt.sources)


def answer_act_with_tools(
    question: Message,
    *,
    knowledge: list[ContextSource],
    llm: LLMProvider,
    chat: Chat,
    stream: AnswerStream,
    tools: list[Tool],
) -> Draft:
    """Let the model use the agent's tools, its words streamed into the answer as they come
    ("is running <tool>…" shows while a tool runs). The draft carries one line per action
    for under the answer."""
    agent = question.conversation.agent
    heartbeat = ClaimHeartbeat(question)
    thread = question_thread(question)
    context = tool_context_build(question, chat=chat, thread=thread)
    zone_name = requester_time_zone(chat, question.slack_user_id)
    now_local = timezone.now().astimezone(ZoneInfo(zone_name))
    prompt = prompt_build(
        agent=agent,
        question=question,
        knowledge=knowledge,
        extra_guidance=tools_guidance(now_local, zone_name),
        reserved_tokens=tools_tokens_estimate(tools),
    )

    def on_call(tool_name: str) -> None:
        heartbeat.beat()
        chat.status_set(thread, replies.running_tool(agent.name, tool_name))

    def on_delta(piece: str) -> None:
        stream.append(piece)
        heartbeat.beat()

    loop = tool_loop_run(
        llm=llm,
        messages=prompt.messages,
        tools=tools,
        context=context,
        model=agent.model,
        temperature=agent.temperature,
        context_size=agent.context_size,
        on_call=on_call,
        on_delta=on_delta,
        gate=vote_gate,
    )
    result = ChatResult(
        text=loop.text,
        model=loop.model,
        prompt_tokens=loop.prompt_tokens,
        completion_tokens=loop.completion_tokens,
        duration_ms=loop.duration_ms,
    )
    actions = [
        replies.action_note(outcome=report.outcome, note=report.note, link=report.link)
        for report in loop.reports
        if report.note
    ]
    return Draft(result=result, sources=prompt.sources, actions=actions)


def tool_context_build(question: Message, *, chat: Chat, thread: ChatThread) -> ToolContext:
    """Who asked, where, and who else is in the thread, for the tools (no secrets)."""
    conversation = question.conversation
    participants = list(
        Message.objects.filter(conversation=conversation, role=Message.Role.USER)
        .exclude(slack_user_id="")
        .order_by("pk")
        .values_list("slack_user_id", flat=True)
        .distinct()
    )
    return ToolContext(
        agent=conversation.agent,
        schema_name=connection.schema_name,
        requested_by=question.slack_user_id,
        chat=chat,
        thread=thread,
        question_ts=question.slack_ts,
        participants=tuple(dict.fromkeys(participants)),
        question_id=question.pk,
        conversation_id=conversation.pk,
    )


def requester_time_zone(chat: Chat, user_id: str) -> str:
    """The person's time zone from their chat profile; the server's when unknown."""
    try:
        zone_name = chat.user_profile(user_id).time_zone
        ZoneInfo(zone_name)
    except (ChatPostError, ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return zone_name


class ClaimHeartbeat:
    """Keeps a claim fresh while text streams in: a long answer is still alive, and the sweep
    must not take it over (it takes over claims older than ANSWER_CLAIM_TIMEOUT_S)."""

    def __init__(self, question: Message):
        self.question = question
        self.every_s = settings.ANSWER_CLAIM_TIMEOUT_S / 3
        self.last = time.monotonic()

    def beat(self) -> None:
        if time.monotonic() - self.last < self.every_s:
            return
        self.last = time.monotonic()
        Message.objects.filter(
            pk=self.question.pk,
            status=Message.Status.ANSWERING,
            claim_task_id=self.question.claim_task_id,
        ).update(claimed_at=timezone.now())


# --- finish → remember ------------------------------------------------------------------------


def answer_finish(
    question: Message, answer: Message, *, draft: Draft, stream: AnswerStream, chat: Chat
) -> None:
    """The final message (answer, what was done, the sources it cites, who answered, 👍/👎),
    then both rows answered."""
    agent = question.conversation.agent
    result = draft.result
    now = timezone.now()
    sources = sources_of(draft.sources, answer_text=result.text)
    stream.finish(
        replies.answer(
            agent_name=agent.name,
            agent_title=agent.title,
            text=result.text,
            model=result.model or agent.model,
            seconds=(now - question.created_at).total_seconds(),
            sources=[_source_shown(source, chat) for source in sources if source["cited"]],
            answer_id=answer.pk,
            actions=draft.actions,
        )
    )
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
    answer_finished_publish(question, answer)


def _source_shown(source: dict, chat: Chat) -> tuple[int, str]:
    """(its number in the answer, how it is named): "Title › Section" linking to the
    document's page on the company's site, or an earlier answer with where and when."""
    if source["kind"] == "memory":
        day = source["date"][:10]
        where = chat.channel_reference(source["channel"]) if source["channel"] else ""
        return source["n"], replies.memory_source(where=where, day=day)
    site = tenant_site_url()
    if source["document_id"] and site:
        return source["n"], f"[{source['heading']}]({site}/knowledge/{source['document_id']}/)"
    return source["n"], source["heading"]


def tenant_site_url() -> str:
    """The current company's own site (its primary domain), as people reach it: https behind
    JAMONO_HTTPS, else http on the port `make run` serves."""
    domain = (
        get_tenant_domain_model()
        .objects.filter(tenant__schema_name=connection.schema_name, is_primary=True)
        .first()
    )
    if domain is None:
        return ""
    if settings.HTTPS:
        return f"https://{domain.domain}"
    port = "" if settings.PORT == 80 else f":{settings.PORT}"
    return f"http://{domain.domain}{port}"


def answer_remember_later(answer: Message) -> None:
    enqueue_for_tenant(
        ANSWER_REMEMBER_TASK, schema_name=connection.schema_name, kwargs={"answer_id": answer.pk}
    )


# --- failures ---------------------------------------------------------------------------------


def answer_tell(stream: AnswerStream, notice) -> None:
    """Put a failure notice where the answer was going; a chat that refuses it is logged."""
    try:
        stream.finish(notice)
    except ChatPostError as exc:
        logger.warning("Could not tell the person about the failure: %s", exc.code)


def answer_give_up(
    question: Message, answer: Message, stream: AnswerStream, *, error: str = ""
) -> None:
    """No more attempts: the person is told, the question is listed as given up (admin)."""
    agent = question.conversation.agent
    answer_tell(stream, replies.gave_up(agent.name, attempts=question.attempts))
    reason = f"gave up after {question.attempts} attempts" + (f": {error}" if error else "")
    answer_fail(question, answer, status=Message.Status.GAVE_UP, error=reason)
    logger.warning("Question %s given up after %s attempts", question.pk, question.attempts)


def answer_fail(question: Message, answer: Message | None, *, status: str, error: str) -> None:
    question.status = status
    question.error = error[:2000]
    question.save(update_fields=["status", "error"])
    if answer is not None:
        answer.status = status
        answer.error = error[:2000]
        answer.save(update_fields=["status", "error"])
    answer_failed_publish(question)
