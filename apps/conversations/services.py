"""Storing what people say to agents, and routing each question to its agent and thread."""

from __future__ import annotations

import logging
import re
import threading
import time

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.conversations.activity import question_stored_publish
from apps.conversations.memory import answer_forget
from apps.conversations.models import AnswerFeedback, Conversation, Message
from apps.core.tenant_tasks import enqueue_for_tenant
from apps.integrations.bases.chat import WEB_TEAM_ID, IncomingMessage

logger = logging.getLogger(__name__)

MENTION_RE = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
MAX_QUESTION_CHARS = 12_000
# Enqueued by name: the tasks module imports this one (tasks are thin wrappers over services).
ANSWER_GENERATE_TASK = "apps.conversations.tasks.answer_generate_task"


class NoAgentAvailable(Exception):
    """Every agent of this tenant is disabled."""


def question_text_clean(text: str) -> str:
    return MENTION_RE.sub("", text).strip()


def agent_choose(text: str) -> tuple[Agent | None, str]:
    """The agent named first in the message ("atlas, …", "CIRRUS: …"), else the default one.

    Returns the agent and the text without its name. The default is the first enabled agent
    of NOX, ATLAS, CIRRUS in that order, then any other enabled agent.
    """
    enabled = list(Agent.objects.filter(enabled=True))
    if not enabled:
        return None, text
    first_word = re.match(r"^\s*([A-Za-z][\w-]*)\s*[:,]?\s*", text)
    if first_word:
        named = first_word.group(1).lower()
        for agent in enabled:
            if named in {agent.slug, agent.name.lower(), agent.command_prefix}:
                return agent, text[first_word.end() :].strip()
    priority = {"nox": 0, "atlas": 1, "cirrus": 2}
    enabled.sort(key=lambda a: (priority.get(a.slug, 99), a.slug))
    return enabled[0], text


def conversation_exists_for_thread(*, channel_id: str, thread_ts: str) -> bool:
    return Conversation.objects.filter(channel_id=channel_id, thread_ts=thread_ts).exists()


def question_thread_key(incoming: IncomingMessage) -> str | None:
    """The thread an agent answers ``incoming`` in, or None when it is not for an agent.

    A DM is always answered (in its thread, or at its top level: ""); a mention, in its
    thread (a new one rooted at the message itself). A channel message that does not tag
    the agent is a question only as a reply in a thread where an agent already takes part:
    people follow up without tagging it again.
    """
    if incoming.is_direct:
        return incoming.thread_ts or ""
    if incoming.mentions_bot:
        return incoming.thread_ts or incoming.ts
    if incoming.thread_ts and conversation_exists_for_thread(
        channel_id=incoming.channel_id, thread_ts=incoming.thread_ts
    ):
        return incoming.thread_ts
    return None


def question_receive(incoming: IncomingMessage) -> Message | None:
    """Store ``incoming`` as a question and enqueue its answer, if it is one (see
    ``question_thread_key``). None when it is not a question, or a duplicate."""
    thread_key = question_thread_key(incoming)
    if thread_key is None:
        return None
    return slack_question_store(incoming, thread_key=thread_key)


def slack_question_store(incoming: IncomingMessage, *, thread_key: str) -> Message | None:
    """Store a person's message as a question and enqueue its answer. Idempotent.

    Inside the Slack request: the unique event id (and channel + ts) makes a Slack retry, or
    the same message delivered as both ``app_mention`` and ``message``, store nothing (the
    INSERT fails, inside a savepoint), so it is never answered twice, whichever web process
    receives it.
    ``thread_key`` is the root ts of the thread the answer goes to ("" for a DM's top level).
    Returns None for a duplicate.
    """
    question = Message(
        role=Message.Role.USER,
        status=Message.Status.RECEIVED,
        team_id=incoming.team_id,
        slack_user_id=incoming.user_id,
        channel_id=incoming.channel_id,
        channel_type=incoming.channel_type,
        thread_key=thread_key,
        slack_ts=incoming.ts,
        slack_event_id=incoming.event_id,
        text=incoming.text[:MAX_QUESTION_CHARS],
    )
    try:
        with transaction.atomic():
            question.save()
    except IntegrityError:
        logger.info("Duplicate Slack message %s ignored", incoming.event_id or incoming.ts)
        return None
    question_stored_publish(question, text=question_text_clean(question.text))
    # Published when the INSERT is committed (at once: a Slack request runs in autocommit). If
    # publishing fails, or the process dies before it, the retry sweep
    # (questions_waiting_for_answer) answers the question.
    enqueue_for_tenant(
        ANSWER_GENERATE_TASK,
        schema_name=connection.schema_name,
        kwargs={"question_id": question.pk},
    )
    return question


class QuestionRefused(ValueError):
    """A question that is not stored; the message tells the person why (translated)."""


# A browser chat's thread: an id the page makes per chat session (fits ``thread_key``).
WEB_THREAD_RE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
WEB_PERSON_PREFIX = "web-"
_web_ts_lock = threading.Lock()
_web_ts_last = 0


def web_person_id(user_pk: int) -> str:
    """How a person of the company's site appears where Slack puts a user or a DM channel:
    their questions, their conversations and the memory only they may draw on."""
    return f"{WEB_PERSON_PREFIX}{user_pk}"


def web_message_ts() -> str:
    """A message id of Slack's shape (seconds.micro), never the same twice in this process:
    the questions of one person must each have their own (``message_unique_user_message``)."""
    global _web_ts_last
    with _web_ts_lock:
        _web_ts_last = max(time.time_ns() // 1000, _web_ts_last + 1)
        micros = _web_ts_last
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def web_question_store(*, user_pk: int, agent: Agent, text: str, thread_key: str) -> Message:
    """Store a question asked on the company's site to ``agent`` and enqueue its answer, as
    for Slack (same task, same pipeline). The thread's conversation is created here with
    ``agent``, so routing keeps the agent of the page. Private like a DM: the question and
    its answer's memory serve only this person. Raises ``QuestionRefused``.
    """
    text = (text or "").strip()
    if not text:
        raise QuestionRefused(_("Write a question first."))
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionRefused(
            _("This question is too long: at most %(limit)s characters.")
            % {"limit": MAX_QUESTION_CHARS}
        )
    if not WEB_THREAD_RE.match(thread_key or ""):
        raise QuestionRefused(_("This conversation is not valid; reload the page."))
    if not agent.enabled:
        raise QuestionRefused(_("%(agent)s is disabled.") % {"agent": agent.name})
    person = web_person_id(user_pk)
    with transaction.atomic():
        conversation, _created = Conversation.objects.get_or_create(
            channel_id=person,
            thread_ts=thread_key,
            defaults={
                "agent": agent,
                "team_id": WEB_TEAM_ID,
                "channel_type": "im",
                "started_by": person,
            },
        )
        if conversation.agent_id != agent.pk:
            raise QuestionRefused(_("This conversation is with another agent; reload the page."))
        question = Message.objects.create(
            role=Message.Role.USER,
            status=Message.Status.RECEIVED,
            team_id=WEB_TEAM_ID,
            slack_user_id=person,
            channel_id=person,
            channel_type="im",
            thread_key=thread_key,
            slack_ts=web_message_ts(),
            text=text,
        )
    enqueue_for_tenant(
        ANSWER_GENERATE_TASK,
        schema_name=connection.schema_name,
        kwargs={"question_id": question.pk},
    )
    return question


@transaction.atomic
def question_route(question: Message) -> Message:
    """Give a stored question its conversation (and so its agent). Idempotent.

    A reply in a thread stays with that thread's agent; a new thread goes to the agent named
    first in the message, else the default agent. Raises NoAgentAvailable when none is enabled.
    """
    if question.conversation_id:
        return question
    conversation = Conversation.objects.filter(
        channel_id=question.channel_id, thread_ts=question.thread_key
    ).first()
    text = question_text_clean(question.text)
    if conversation is None:
        agent, text = agent_choose(text)
        if agent is None:
            raise NoAgentAvailable(connection.schema_name)
        conversation, _ = Conversation.objects.get_or_create(
            channel_id=question.channel_id,
            thread_ts=question.thread_key,
            defaults={
                "agent": agent,
                "team_id": question.team_id,
                "channel_type": question.channel_type,
                "started_by": question.slack_user_id,
            },
        )
    question.conversation = conversation
    question.text = text or "(empty message)"
    question.save(update_fields=["conversation", "text"])
    conversation.save(update_fields=["updated_at"])
    return question


class FeedbackError(ValueError):
    """The feedback does not point at an answer of this tenant, in the message clicked, from a
    real person."""


# A person's chat user id (Slack: U… or W…); anything else cannot vote.
PERSON_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,31}$")


@transaction.atomic
def answer_feedback_record(
    *, answer_id: int, slack_user_id: str, value: str, channel_id: str, message_ts: str
) -> AnswerFeedback:
    """Record a person's 👍/👎 on an answer (their latest vote counts). A 👎 removes the
    answer from the agent's memory at once.

    Counted only for the answer shown in the clicked message (its channel and ts), so a click
    cannot vote on another thread's answer by changing the id it carries.
    """
    if value not in AnswerFeedback.Value.values:
        raise FeedbackError(f"unknown feedback {value!r}")
    if not PERSON_ID_RE.match(slack_user_id or ""):
        raise FeedbackError("feedback without a person's user id")
    answer = Message.objects.filter(
        pk=answer_id, role=Message.Role.ASSISTANT, channel_id=channel_id, slack_ts=message_ts
    ).first()
    if answer is None:
        raise FeedbackError(f"no answer {answer_id} in the message clicked")
    feedback, _ = AnswerFeedback.objects.update_or_create(
        answer=answer, slack_user_id=slack_user_id, defaults={"value": value}
    )
    if value == AnswerFeedback.Value.DOWN:
        answer_forget(answer)
    return feedback
