"""The dashboard's live feed (ws/activity/, apps.dashboard.consumers): only a company's own
staff listen, each to their own company's events only, which never carry a DM's text."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from apps.agents.models import Agent
from apps.conversations.answering import answer_generate
from apps.conversations.services import question_receive
from apps.integrations.bases.llm import ToolCall
from apps.tools.executor import tool_call_run
from apps.tools.models import Risk
from apps.tools.registry import Tool, ToolContext, ToolOutcome
from tests.factories import SlackWorkspaceFactory, incoming_message, slack_token, tenant_make
from tests.websockets import activity_socket, domain_of, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "my salary is 12345"


def ask(tenant, *, text="how do I roll back?", ts="1700000000.000100", **fields):
    """A person's question stored by the real service, as the Slack request stores it."""
    with schema_context(tenant.schema_name):
        return question_receive(
            incoming_message(text=text, ts=ts, event_id=f"Ev{tenant.schema_name}{ts}", **fields)
        )


def open_and_close_code(host: str, cookie: str = "") -> int:
    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        code = await socket.closed_with()
        await socket.disconnect()  # as the server tells the application once closed
        return code

    return async_to_sync(scenario)()


def test_a_visitor_without_a_session_is_closed_with_4401():
    tenant = tenant_make()

    assert open_and_close_code(domain_of(tenant)) == 4401


def test_a_session_of_company_a_is_closed_on_company_bs_host():
    tenant_a, tenant_b = tenant_make(), tenant_make()

    assert open_and_close_code(domain_of(tenant_b), session_cookie(tenant_a)) == 4401


def test_a_person_who_is_not_staff_is_closed_with_4403():
    tenant = tenant_make()
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.create_user("bo", "bo@acme.test", "pw-1234567")
        client = Client()
        client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    assert open_and_close_code(domain_of(tenant), cookie) == 4403


def test_a_stored_question_reaches_its_companys_feed_and_never_anothers():
    tenant_a, tenant_b = tenant_make(), tenant_make()
    cookie_a, cookie_b = session_cookie(tenant_a), session_cookie(tenant_b)

    host_a, host_b = domain_of(tenant_a), domain_of(tenant_b)

    async def scenario():
        socket_a = activity_socket(host_a, cookie=cookie_a)
        socket_b = activity_socket(host_b, cookie=cookie_b)
        assert await socket_a.connect() and await socket_b.connect()
        await sync_to_async(ask)(tenant_a, text="<@U0BOT> only for A's eyes")
        event_a = await socket_a.receive_json()
        await sync_to_async(ask)(tenant_b, text="B's own question")
        # B's socket gets B's event first: A's, sent before it, would have come before it.
        event_b = await socket_b.receive_json()
        nothing_else = await socket_b.receive_nothing(timeout=0.5)
        await socket_a.disconnect()
        await socket_b.disconnect()
        return event_a, event_b, nothing_else

    event_a, event_b, nothing_else = async_to_sync(scenario)()

    assert event_a["kind"] == "question" and event_a["preview"] == "only for A's eyes"
    assert event_a["channel"] == "C0CHAN001" and event_a["user"] == "U0PERSON1"
    assert event_a["direct"] is False and event_a["question_id"]
    assert event_b["preview"] == "B's own question"
    assert nothing_else


def test_a_direct_messages_text_never_reaches_the_feed():
    tenant = tenant_make()
    cookie = session_cookie(tenant)

    host = domain_of(tenant)

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        await sync_to_async(ask)(tenant, text=SECRET, channel_id="D0DIRECT1", channel_type="im")
        raw = await socket.receive_text()
        await socket.disconnect()
        return raw

    raw = async_to_sync(scenario)()

    event = json.loads(raw)
    assert event["kind"] == "question" and event["direct"] is True and event["channel"]
    assert event["preview"] == ""
    assert "12345" not in raw


def test_an_answer_shows_as_thinking_then_answered_with_its_agent(slack_double, ollama_double):
    tenant = tenant_make()
    cookie = session_cookie(tenant)
    token = slack_token()
    workspace = SlackWorkspaceFactory(tenant=tenant, bot_token=token, bot_user_id="U0BOTLIVE")
    slack_double.add_token(token, team_id=workspace.team_id, bot_user_id="U0BOTLIVE")
    ollama_double.reply_text = "Roll back with `kubectl rollout undo deploy/api`."

    def ask_and_answer():
        question = ask(tenant, team_id=workspace.team_id)
        with schema_context(tenant.schema_name):
            answer_generate(question_id=question.pk)

    host = domain_of(tenant)

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        await sync_to_async(ask_and_answer)()
        events = [await socket.receive_json() for _ in range(3)]
        await socket.disconnect()
        return events

    question, thinking, answer = async_to_sync(scenario)()

    assert [question["kind"], thinking["kind"], answer["kind"]] == [
        "question",
        "thinking",
        "answer",
    ]
    assert question["agent"] == ""  # not routed yet when the Slack request stores it
    assert thinking["agent"] == answer["agent"] == "NOX"
    assert thinking["question_id"] == answer["question_id"] == question["question_id"]
    assert answer["answer_ms"] is not None and isinstance(answer["sources"], int)
    assert answer["preview"] == "Roll back with `kubectl rollout undo deploy/api`."


def test_a_finished_tool_call_shows_its_tool_and_status_without_its_arguments(settings):
    settings.TOOL_RETRY_BACKOFF_S = 0
    tenant = tenant_make()
    cookie = session_cookie(tenant)
    tool = Tool(
        name="demo_check",
        description="demo",
        parameters={"type": "object", "properties": {"host": {"type": "string"}}},
        risk=Risk.READ,
        run=lambda context, args: ToolOutcome(result={"ok": True}, summary="checked"),
        agents=frozenset({"nox"}),
    )

    def call_tool():
        with schema_context(tenant.schema_name):
            from django.db import connection

            context = ToolContext(
                agent=Agent.objects.get(slug="nox"),
                schema_name=connection.schema_name,
                requested_by="U0ASKER",
            )
            tool_call_run(
                context,
                ToolCall(name=tool.name, arguments={"host": SECRET}),
                offered={tool.name: tool},
            )

    host = domain_of(tenant)

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        await sync_to_async(call_tool)()
        raw = await socket.receive_text()
        await socket.disconnect()
        return raw

    raw = async_to_sync(scenario)()

    event = json.loads(raw)
    assert event["kind"] == "tool_call" and event["tool"] == "demo_check"
    assert event["status"] == "done" and event["agent"] == "NOX"
    assert "12345" not in raw


def test_a_quiet_feed_stays_open_longer_than_the_layers_wait_for_events():
    # The consumer waits on Redis 5 s at a time; a read timeout of 5 s (redis-py 8's default)
    # would end a quiet socket there (settings.CHANNEL_LAYERS).
    tenant = tenant_make()
    cookie = session_cookie(tenant)
    host = domain_of(tenant)

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        await asyncio.sleep(6)
        await sync_to_async(ask)(tenant)
        event = await socket.receive_json()
        await socket.disconnect()
        return event

    assert async_to_sync(scenario)()["kind"] == "question"


def test_the_feed_answers_a_ping_and_ignores_anything_else():
    tenant = tenant_make()
    cookie = session_cookie(tenant)

    host = domain_of(tenant)

    async def scenario():
        socket = activity_socket(host, cookie=cookie)
        assert await socket.connect()
        await socket.send_text('{"group": "activity.public"}')
        await socket.send_input({"type": "websocket.receive", "bytes": b"\x00\xff"})
        await socket.send_text("ping")
        reply = await socket.receive_text()
        await socket.disconnect()
        return reply

    assert async_to_sync(scenario)() == "pong"
