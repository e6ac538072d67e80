"""``context_size`` on the wire: Ollama gets it as ``options.num_ctx`` in every ``/api/chat``
request (chat, streamed or not; a native tool turn, streamed or not; a JSON-mode turn; a plain
turn with no tools), nothing when it is None; OpenAI, whose server owns its context, gets no
such field and answers as usual."""

from __future__ import annotations

import json

import pytest

from apps.integrations.bases.llm import ChatMessage, ToolSpec
from apps.integrations.ollama.provider import OllamaProvider
from apps.integrations.openai.provider import OpenAIProvider
from tests.doubles.base import Reply
from tests.doubles.openai import openai_error

TOOL_MODEL = "llama3.1:8b"
PLAIN_MODEL = "gemma2:9b"  # no "tools" capability: JSON mode
OPENAI_MODEL = "gpt-4o-mini"
CONTEXT_SIZE = 16384
TOOLS = [
    ToolSpec(
        name="jira_create_issue",
        description="Open a Jira issue.",
        parameters={
            "type": "object",
            "properties": {"summary": {"type": "string"}},
            "required": ["summary"],
        },
    )
]
QUESTION = [
    ChatMessage(role="system", content="You are NOX, a DevOps engineer."),
    ChatMessage(role="user", content="The payments API is down, open a ticket."),
]
CREATE_CALL = {"name": "jira_create_issue", "arguments": {"summary": "Payments API down"}}


def _options_sent(double) -> list[dict]:
    return [request.json.get("options") or {} for request in double.requests_to("/api/chat")]


# --- Ollama: options.num_ctx --------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_ollama_chat_sends_the_context_size_as_num_ctx(ollama_double, stream):
    result = OllamaProvider().chat(
        QUESTION, model=TOOL_MODEL, temperature=0.2, stream=stream, context_size=CONTEXT_SIZE
    )

    assert result.text == ollama_double.reply_text
    assert _options_sent(ollama_double) == [{"temperature": 0.2, "num_ctx": CONTEXT_SIZE}]


@pytest.mark.parametrize("streamed", [False, True])
def test_ollama_native_tool_turn_sends_num_ctx(ollama_double, streamed):
    ollama_double.script_replies([[CREATE_CALL]])
    deltas: list[str] = []

    turn = OllamaProvider().chat_tools(
        QUESTION,
        tools=TOOLS,
        model=TOOL_MODEL,
        temperature=0.0,
        on_delta=deltas.append if streamed else None,
        context_size=CONTEXT_SIZE,
    )

    assert turn.mode == "native"
    assert [call.name for call in turn.tool_calls] == ["jira_create_issue"]
    sent = ollama_double.requests_to("/api/chat")
    assert len(sent) == 1
    assert sent[0].json["tools"]
    assert sent[0].json.get("stream", True) is streamed
    assert sent[0].json["options"]["num_ctx"] == CONTEXT_SIZE


def test_ollama_json_mode_turn_sends_num_ctx(ollama_double):
    ollama_double.models.append(PLAIN_MODEL)
    ollama_double.script_replies([[CREATE_CALL]])

    turn = OllamaProvider().chat_tools(
        QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0, context_size=CONTEXT_SIZE
    )

    assert turn.mode == "json"
    assert [call.name for call in turn.tool_calls] == ["jira_create_issue"]
    sent = ollama_double.requests_to("/api/chat")
    assert len(sent) == 1
    assert sent[0].json["format"]
    assert sent[0].json["options"]["num_ctx"] == CONTEXT_SIZE


def test_ollama_refused_tools_then_json_mode_both_send_num_ctx(ollama_double):
    # /api/show says "tools", but the server refuses them: the JSON retry carries it too.
    ollama_double.models.append(PLAIN_MODEL)
    ollama_double.capabilities[PLAIN_MODEL] = ["completion", "tools"]
    ollama_double.reply_next(
        Reply.json(
            {"error": f"registry.ollama.ai/library/{PLAIN_MODEL} does not support tools"},
            status=400,
        ),
        path="/api/chat",
    )

    turn = OllamaProvider().chat_tools(
        QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0, context_size=CONTEXT_SIZE
    )

    assert turn.mode == "json"
    assert [options.get("num_ctx") for options in _options_sent(ollama_double)] == [
        CONTEXT_SIZE,
        CONTEXT_SIZE,
    ]


@pytest.mark.parametrize("streamed", [False, True])
def test_ollama_plain_turn_without_tools_sends_num_ctx(ollama_double, streamed):
    deltas: list[str] = []

    turn = OllamaProvider().chat_tools(
        QUESTION,
        tools=[],
        model=TOOL_MODEL,
        temperature=0.0,
        on_delta=deltas.append if streamed else None,
        context_size=CONTEXT_SIZE,
    )

    assert turn.text == ollama_double.reply_text
    sent = ollama_double.requests_to("/api/chat")
    assert len(sent) == 1
    assert not sent[0].json.get("tools")
    assert sent[0].json["options"]["num_ctx"] == CONTEXT_SIZE


def test_ollama_retry_of_a_transient_failure_sends_num_ctx_again(ollama_double):
    ollama_double.fail_next(status=503, path="/api/chat")

    OllamaProvider().chat(QUESTION, model=TOOL_MODEL, temperature=0.0, context_size=CONTEXT_SIZE)

    assert [options.get("num_ctx") for options in _options_sent(ollama_double)] == [
        CONTEXT_SIZE,
        CONTEXT_SIZE,
    ]


def test_ollama_without_a_context_size_sends_no_num_ctx(ollama_double):
    ollama_double.models.append(PLAIN_MODEL)
    provider = OllamaProvider()
    deltas: list[str] = []

    provider.chat(QUESTION, model=TOOL_MODEL, temperature=0.0)
    provider.chat(QUESTION, model=TOOL_MODEL, temperature=0.0, stream=True)
    provider.chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)
    provider.chat_tools(
        QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0, on_delta=deltas.append
    )
    provider.chat_tools(QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)
    provider.chat_tools(QUESTION, tools=[], model=TOOL_MODEL, temperature=0.0)

    assert _options_sent(ollama_double) == [{"temperature": 0.0}] * 6


# --- OpenAI: the server owns its context --------------------------------------------------------


def _openai_bodies(double) -> list[dict]:
    return [request.json for request in double.requests_to("/v1/chat/completions")]


def _holds_no_context_setting(body: dict) -> bool:
    wire = json.dumps(body)
    return "num_ctx" not in wire and "options" not in body and str(CONTEXT_SIZE) not in wire


@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_ignores_the_context_size(openai_double, stream):
    result = OpenAIProvider().chat(
        QUESTION, model=OPENAI_MODEL, temperature=0.0, stream=stream, context_size=CONTEXT_SIZE
    )

    assert result.text == openai_double.reply_text
    (body,) = _openai_bodies(openai_double)
    assert _holds_no_context_setting(body)


@pytest.mark.parametrize("streamed", [False, True])
def test_openai_tool_turns_ignore_the_context_size(openai_double, streamed):
    openai_double.script_replies([[CREATE_CALL]])
    deltas: list[str] = []
    provider = OpenAIProvider()

    turn = provider.chat_tools(
        QUESTION,
        tools=TOOLS,
        model=OPENAI_MODEL,
        temperature=0.0,
        on_delta=deltas.append if streamed else None,
        context_size=CONTEXT_SIZE,
    )
    plain = provider.chat_tools(
        QUESTION,
        tools=[],
        model=OPENAI_MODEL,
        temperature=0.0,
        on_delta=deltas.append if streamed else None,
        context_size=CONTEXT_SIZE,
    )

    assert [call.name for call in turn.tool_calls] == ["jira_create_issue"]
    assert plain.text == openai_double.reply_text
    bodies = _openai_bodies(openai_double)
    assert len(bodies) == 2
    assert all(_holds_no_context_setting(body) for body in bodies)


def test_openai_json_mode_ignores_the_context_size(openai_double):
    refusal = openai_error(f"{OPENAI_MODEL} does not support tools", type_="api_error", code=None)
    openai_double.reply_next(Reply.json(refusal, status=400), path="/v1/chat/completions")
    openai_double.script_replies([[CREATE_CALL]])

    turn = OpenAIProvider().chat_tools(
        QUESTION, tools=TOOLS, model=OPENAI_MODEL, temperature=0.0, context_size=CONTEXT_SIZE
    )

    assert turn.mode == "json"
    assert [call.name for call in turn.tool_calls] == ["jira_create_issue"]
    bodies = _openai_bodies(openai_double)
    assert "response_format" in bodies[-1]
    assert all(_holds_no_context_setting(body) for body in bodies)
