"""Asking an agent in the browser: the socket stores the question as the Slack path does, the
very same pipeline answers it, and the answer streams to the person's page only (real
PostgreSQL, Redis channel layer, the Ollama double)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.answering import answer_generate
from apps.conversations.models import Conversation, Message
from apps.conversations.services import MAX_QUESTION_CHARS
from apps.knowledge.models import Document
from apps.knowledge.services import document_embed, document_ingest
from tests.apps.integrations.web.conftest import (
    chat_socket,
    events_until,
    host_of,
    person_make,
    session_cookie,
)

THREAD = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
RUNBOOK = b"""# Parcel scan consumer lag

## Symptoms

Alert ScanConsumerLagHigh fires; parcels show "in transit" for hours.

## Fix

Set `session.timeout.ms=45000` on scan-ingest and restart it. Codename BLUE HERON.
"""


@pytest.fixture
def knowledge(tenant_a, ollama_double):
    with schema_context(tenant_a.schema_name):
        Document.objects.all().delete()
        document_ingest(key="scan-lag.md", name="scan-lag.md", data=RUNBOOK, source="upload")
        document = Document.objects.get(key="scan-lag.md")
        document_embed(document)
    return document


def answer_in_schema(schema_name: str, question_id: int):
    """What the answer task does in the worker, here in the test's process."""
    with schema_context(schema_name):
        return answer_generate(question_id=question_id)


async def ask(socket, question: str, thread: str = THREAD) -> dict:
    connected, _ = await socket.connect(timeout=20)
    assert connected
    assert (await socket.receive_json_from(timeout=20))["kind"] == "ready"
    await socket.send_json_to({"question": question, "thread": thread})
    return await socket.receive_json_from(timeout=20)


def test_a_question_streams_its_answer_word_by_word_then_the_sources(
    transactional_db, tenant_a, ana, knowledge, ollama_double
):
    ollama_double.reply_text = "Set the session timeout to 45000 and restart scan-ingest [1]."
    socket = chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, ana))

    async def scenario():
        accepted = await ask(socket, "ScanConsumerLagHigh is firing, parcels stuck")
        assert accepted["kind"] == "accepted" and accepted["thread"] == THREAD
        await database_sync_to_async(answer_in_schema)(tenant_a.schema_name, accepted["question"])
        events = await events_until(socket, "final")
        await socket.disconnect()
        return accepted["question"], events

    question_id, events = async_to_sync(scenario)()

    deltas = [e["text"] for e in events if e["kind"] == "delta"]
    assert len(deltas) > 3
    assert "".join(deltas).strip() == ollama_double.reply_text
    final = events[-1]
    assert final["thread"] == THREAD and final["text"] == ollama_double.reply_text
    assert [s["document_id"] for s in final["sources"]] == [knowledge.pk]
    href = final["sources"][0]["href"]
    assert href.endswith(f"/knowledge/{knowledge.pk}/")
    sources_line = next(n for n in final["notes"] if "Sources: " in n[0]["text"])
    assert sources_line[1] == {"text": "Parcel scan consumer lag", "href": href}
    assert {e["kind"] for e in events} >= {"start", "status", "delta", "final"}
    assert {e["message"] for e in events if e["kind"] in ("start", "delta", "final")} == {
        final["message"]
    }
    # Stored as a private question of this person, with the page's agent, answered.
    with schema_context(tenant_a.schema_name):
        question = Message.objects.get(pk=question_id)
        assert (question.team_id, question.channel_type) == ("web", "im")
        assert question.slack_user_id == question.channel_id == f"web-{ana.pk}"
        assert question.status == Message.Status.ANSWERED
        conversation = question.conversation
        assert (conversation.agent.slug, conversation.thread_ts) == ("nox", THREAD)
        assert conversation.started_by == f"web-{ana.pk}"
        assert question.answer.slack_ts == final["message"]


def test_the_page_of_another_agent_keeps_its_agent(transactional_db, tenant_a, ana, ollama_double):
    socket = chat_socket(host_of(tenant_a), slug="atlas", cookie=session_cookie(tenant_a, ana))

    async def scenario():
        accepted = await ask(socket, "nox, is the deploy green?")  # names another agent
        await socket.disconnect()
        return accepted

    accepted = async_to_sync(scenario)()

    with schema_context(tenant_a.schema_name):
        answer_generate(question_id=accepted["question"])
        assert Conversation.objects.get(thread_ts=THREAD).agent.slug == "atlas"


def test_no_other_person_receives_the_answer_in_this_company_or_another(
    transactional_db, tenant_a, tenant_b, ana, ollama_double
):
    ollama_double.reply_text = "Only for Ana."
    bruno = person_make(tenant_a, "bruno")
    carla = person_make(tenant_b, "carla")  # users are per company: she may have Ana's pk
    ana_socket = chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, ana))
    others = [
        chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, bruno)),
        chat_socket(host_of(tenant_b), cookie=session_cookie(tenant_b, carla)),
    ]

    async def scenario():
        for other in others:
            await other.connect(timeout=20)
            assert (await other.receive_json_from(timeout=20))["kind"] == "ready"
        accepted = await ask(ana_socket, "what is our on-call rota?")
        await database_sync_to_async(answer_in_schema)(tenant_a.schema_name, accepted["question"])
        await events_until(ana_socket, "final")  # the positive signal: Ana got all of it
        got_nothing = [await other.receive_nothing(timeout=0.5) for other in others]
        for socket in (ana_socket, *others):
            await socket.disconnect()
        return got_nothing

    assert async_to_sync(scenario)() == [True, True]


def test_an_unreachable_model_is_told_with_the_url_tried(
    transactional_db, tenant_a, ana, settings, closed_port_url
):
    settings.OLLAMA_HOST = closed_port_url
    socket = chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, ana))

    async def scenario():
        accepted = await ask(socket, "is prod ok?")
        await database_sync_to_async(answer_in_schema)(tenant_a.schema_name, accepted["question"])
        events = await events_until(socket, "final")
        await socket.disconnect()
        return events[-1]

    final = async_to_sync(scenario)()

    assert "can't reach its language model" in final["text"]
    assert final["tone"] == "warning" and final["model_url"] == closed_port_url
    assert any(closed_port_url in part["text"] for note in final["notes"] for part in note)


@pytest.mark.parametrize(
    ("question", "thread", "refusal"),
    [
        ("x" * (MAX_QUESTION_CHARS + 1), THREAD, "too long"),
        ("   ", THREAD, "Write a question first"),
        ("hello", "../../etc", "not valid"),
    ],
)
def test_a_bad_question_is_refused_on_the_socket_and_not_stored(
    transactional_db, tenant_a, ana, question, thread, refusal
):
    socket = chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, ana))

    async def scenario():
        reply = await ask(socket, question, thread=thread)
        await socket.disconnect()
        return reply

    reply = async_to_sync(scenario)()

    assert reply["kind"] == "error" and refusal in reply["text"]
    with schema_context(tenant_a.schema_name):
        assert not Message.objects.exists()


def test_a_message_of_the_wrong_shape_gets_an_error_event(transactional_db, tenant_a, ana):
    socket = chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, ana))

    async def scenario():
        await socket.connect(timeout=20)
        await socket.receive_json_from(timeout=20)
        await socket.send_to(text_data="not json")
        first = await socket.receive_json_from(timeout=20)
        await socket.send_json_to({"question": 42})
        second = await socket.receive_json_from(timeout=20)
        await socket.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()

    assert first["kind"] == second["kind"] == "error"


def closing_code(socket) -> int:
    async def scenario():
        connected, _ = await socket.connect(timeout=20)
        assert connected  # accepted, then closed: a browser sees the code
        output = await socket.receive_output(timeout=20)
        while output["type"] != "websocket.close":
            output = await socket.receive_output(timeout=20)
        await socket.disconnect(output["code"])  # as a server does once the socket is closed
        return output["code"]

    return async_to_sync(scenario)()


def test_an_anonymous_socket_is_closed(transactional_db, tenant_a):
    assert closing_code(chat_socket(host_of(tenant_a))) == 4401


def test_a_login_of_one_company_opens_no_socket_on_another(
    transactional_db, tenant_a, tenant_b, ana
):
    cookie = session_cookie(tenant_a, ana)

    assert closing_code(chat_socket(host_of(tenant_b), cookie=cookie)) == 4401


def test_a_person_who_is_not_staff_is_closed(transactional_db, tenant_a):
    visitor = person_make(tenant_a, "visitor", is_staff=False)

    code = closing_code(chat_socket(host_of(tenant_a), cookie=session_cookie(tenant_a, visitor)))

    assert code == 4403


def test_an_unknown_or_disabled_agent_gets_an_error_then_a_close(transactional_db, tenant_a, ana):
    with schema_context(tenant_a.schema_name):
        Agent.objects.filter(slug="cirrus").update(enabled=False)
    cookie, host = session_cookie(tenant_a, ana), host_of(tenant_a)

    async def scenario(slug):
        socket = chat_socket(host, slug=slug, cookie=cookie)
        await socket.connect(timeout=20)
        error = await socket.receive_json_from(timeout=20)
        closed = await socket.receive_output(timeout=20)
        await socket.disconnect(closed.get("code", 1000))
        return error, closed

    for slug in ("cirrus", "nobody"):
        error, closed = async_to_sync(scenario)(slug)
        assert error["kind"] == "error" and slug in error["text"]
        assert closed == {"type": "websocket.close", "code": 4404}
