"""A tool-calling turn streamed to the person (``chat_tools(..., on_delta=...)``), proven for both
adapters through their real clients: text pieces in order, calls gathered from the stream
(OpenAI's arguments joined from their pieces), the retry policy of a streamed ``chat`` (once,
and only before the first piece), the first-token timeout, JSON mode delivering its answer once,
and a plain turn (no tools) streamed like ``chat``."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import pytest

from apps.integrations.bases.llm import (
    ChatMessage,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    ToolCall,
    ToolSpec,
    ToolTurn,
    llm_provider_get,
)
from tests.doubles.base import ProtocolDouble, Reply
from tests.doubles.ollama import text_split_into_chunks
from tests.doubles.openai import openai_error

JIRA_CREATE = ToolSpec(
    name="jira_create_issue",
    description="Open a Jira issue.",
    parameters={
        "type": "object",
        "properties": {"summary": {"type": "string"}, "priority": {"type": "string"}},
        "required": ["summary"],
    },
)
HTTP_PROBE = ToolSpec(
    name="http_probe",
    description="GET a URL.",
    parameters={"type": "object", "properties": {"url": {"type": "string"}}},
)
TOOLS = [JIRA_CREATE, HTTP_PROBE]
QUESTION = [
    ChatMessage(role="system", content="You are NOX, a DevOps engineer."),
    ChatMessage(role="user", content="The payments API is down, open a ticket."),
]
CREATE_ARGUMENTS = {"summary": "Payments API down since 09:12 UTC", "priority": "High"}
CREATE_CALL = {"name": "jira_create_issue", "arguments": CREATE_ARGUMENTS}
PROBE_CALL = {"name": "http_probe", "arguments": {"url": "https://pay.example.com/health"}}
ANSWER = "Opened PAY-1 for the payments outage."


@dataclass
class StreamingUnderTest:
    provider: LLMProvider
    double: ProtocolDouble
    model: str
    chat_path: str
    vendor: str
    chunks_up_to_first_delta: int  # OpenAI opens its stream with a role-only chunk

    def ask(
        self,
        on_delta,
        model: str | None = None,
        *,
        tools: list[ToolSpec] = TOOLS,
        provider: LLMProvider | None = None,
    ) -> ToolTurn:
        return (provider or self.provider).chat_tools(
            QUESTION, tools=tools, model=model or self.model, temperature=0.0, on_delta=on_delta
        )

    def sent(self) -> list[dict]:
        return [request.json for request in self.double.requests_to(self.chat_path)]

    def json_mode(self) -> str:
        """Make the next turn go to JSON mode; return the model to ask."""
        if self.vendor == "ollama":
            self.double.models.append("gemma2:9b")  # no "tools" in its capabilities
            return "gemma2:9b"
        refusal = openai_error(f"{self.model} does not support tools", type_="api_error", code=None)
        self.double.reply_next(Reply.json(refusal, status=400), path=self.chat_path)
        return self.model

    def call_id(self, number: int) -> str:
        return f"call_{number}" if self.vendor == "openai" else ""


@pytest.fixture
def ollama_llm(ollama_double, settings) -> StreamingUnderTest:
    settings.LLM_PROVIDER = "ollama"
    return StreamingUnderTest(
        llm_provider_get(), ollama_double, "llama3.1:8b", "/api/chat", "ollama", 1
    )


@pytest.fixture
def openai_llm(openai_double) -> StreamingUnderTest:
    return StreamingUnderTest(
        llm_provider_get(), openai_double, "gpt-4o-mini", "/v1/chat/completions", "openai", 2
    )


@pytest.fixture(params=["ollama", "openai"])
def llm(request) -> StreamingUnderTest:
    return request.getfixturevalue(f"{request.param}_llm")


# --- text and calls from the stream ------------------------------------------------------------


def test_a_streamed_text_turn_delivers_its_pieces_in_order_and_returns_the_full_text(llm):
    llm.double.script_replies([ANSWER])
    pieces: list[str] = []

    turn = llm.ask(pieces.append)

    assert pieces == text_split_into_chunks(ANSWER)
    assert len(pieces) > 1
    assert (turn.text, turn.tool_calls, turn.mode) == (ANSWER, (), "native")
    sent = llm.sent()[0]
    assert sent["stream"] is True
    assert [tool["function"]["name"] for tool in sent["tools"]] == [
        "jira_create_issue",
        "http_probe",
    ]


def test_a_streamed_tool_call_turn_returns_the_calls_and_delivers_no_text(llm):
    llm.double.script_replies([[CREATE_CALL]])
    pieces: list[str] = []

    turn = llm.ask(pieces.append)

    assert pieces == []
    assert turn.text == ""
    assert turn.tool_calls == (
        ToolCall(name="jira_create_issue", arguments=CREATE_ARGUMENTS, id=llm.call_id(1)),
    )
    assert turn.mode == "native"


def test_several_streamed_calls_of_one_turn_come_back_whole_and_in_order(llm):
    llm.double.script_replies([[PROBE_CALL, CREATE_CALL]])

    turn = llm.ask(lambda piece: None)

    assert turn.tool_calls == (
        ToolCall(name="http_probe", arguments=PROBE_CALL["arguments"], id=llm.call_id(1)),
        ToolCall(name="jira_create_issue", arguments=CREATE_ARGUMENTS, id=llm.call_id(2)),
    )


def test_text_and_calls_of_one_turn_are_streamed_and_gathered(llm):
    llm.double.script_replies(
        [{"raw_content": "Checking the API first.", "tool_calls": [PROBE_CALL]}]
    )
    pieces: list[str] = []

    turn = llm.ask(pieces.append)

    assert pieces == ["Checking ", "the ", "API ", "first."]
    assert turn.text == "Checking the API first."
    assert [(call.name, call.arguments) for call in turn.tool_calls] == [
        ("http_probe", PROBE_CALL["arguments"])
    ]


def test_a_streamed_turn_records_the_model_and_token_counts(llm):
    llm.double.script_replies([[CREATE_CALL]])

    turn = llm.ask(lambda piece: None)

    assert turn.model == llm.model
    assert turn.prompt_tokens == sum(len(m.content.split()) for m in QUESTION)
    assert turn.completion_tokens


# --- the retry policy of a streamed answer ------------------------------------------------------


def test_a_503_before_the_first_piece_is_retried_once(llm):
    llm.double.fail_next(status=503, path=llm.chat_path)
    llm.double.script_replies([ANSWER])
    pieces: list[str] = []

    turn = llm.ask(pieces.append)

    assert "".join(pieces) == turn.text == ANSWER  # delivered once
    assert len(llm.sent()) == 2


def test_two_503s_raise_unavailable_after_a_retry(llm):
    llm.double.fail_next(2, status=503, path=llm.chat_path)

    with pytest.raises(LLMUnavailableError, match="after a retry"):
        llm.ask(lambda piece: None)


def test_a_stream_cut_after_a_piece_raises_unavailable_and_is_not_retried(llm):
    llm.double.script_replies([ANSWER])
    llm.double.cut_stream_next(after_chunks=llm.chunks_up_to_first_delta, path=llm.chat_path)
    pieces: list[str] = []

    with pytest.raises(LLMUnavailableError, match="broke off after it had started"):
        llm.ask(pieces.append)

    assert pieces == ["Opened "]  # delivered once, never repeated by a retry
    assert len(llm.sent()) == 1


def test_a_stream_cut_before_any_piece_is_retried(llm):
    llm.double.script_replies([ANSWER, ANSWER])  # the cut request takes one too
    llm.double.cut_stream_next(after_chunks=0, path=llm.chat_path)
    pieces: list[str] = []

    turn = llm.ask(pieces.append)

    assert "".join(pieces) == turn.text == ANSWER
    assert len(llm.sent()) == 2


def test_a_stream_cut_among_its_calls_is_retried_without_doubling_them(llm):
    # No text was delivered, only calls were read: the retry starts afresh.
    llm.double.script_replies([[CREATE_CALL], [CREATE_CALL]])
    llm.double.cut_stream_next(after_chunks=llm.chunks_up_to_first_delta, path=llm.chat_path)
    pieces: list[str] = []

    turn = llm.ask(pieces.append)

    assert pieces == []
    assert [(call.name, call.arguments) for call in turn.tool_calls] == [
        ("jira_create_issue", CREATE_ARGUMENTS)
    ]
    assert len(llm.sent()) == 2


def test_an_error_raised_by_on_delta_reaches_the_caller_unchanged_and_is_not_retried(llm):
    class SlackUpdateFailed(Exception):
        pass

    def on_delta(piece: str) -> None:
        raise SlackUpdateFailed(piece)

    llm.double.script_replies([ANSWER])

    with pytest.raises(SlackUpdateFailed, match="Opened"):
        llm.ask(on_delta)
    assert len(llm.sent()) == 1


def test_a_streamed_tool_turn_that_does_not_start_within_the_first_token_timeout_fails_quickly(
    llm, settings
):
    settings.LLM_TIMEOUT_S = 30
    settings.LLM_FIRST_TOKEN_TIMEOUT_S = 0.3
    provider = llm_provider_get()
    provider.tool_support(llm.model)  # asked before the hang (Ollama: /api/show)
    llm.double.delay_next(3.0, count=2, path=llm.chat_path)  # a model that hangs
    started = time.monotonic()

    with pytest.raises(LLMUnavailableError):
        llm.ask(lambda piece: None, provider=provider)

    assert time.monotonic() - started < 2  # two attempts of 0.3 s, not of 30 s
    assert len(llm.sent()) == 2


def test_an_unknown_model_raises_a_response_error_without_a_retry(llm):
    with pytest.raises(LLMResponseError):
        llm.ask(lambda piece: None, "no-such-model:1b")


# --- JSON mode, and no tools ---------------------------------------------------------------------


def test_json_mode_is_unstreamed_and_gives_on_delta_the_answer_once(llm):
    model = llm.json_mode()
    llm.double.script_replies([ANSWER])
    pieces: list[str] = []

    turn = llm.ask(pieces.append, model)

    assert (turn.mode, turn.text, turn.tool_calls) == ("json", ANSWER, ())
    assert pieces == [ANSWER]
    assert not llm.sent()[-1].get("stream")


def test_json_mode_with_calls_and_no_answer_does_not_call_on_delta(llm):
    model = llm.json_mode()
    llm.double.script_replies([[CREATE_CALL]])
    pieces: list[str] = []

    turn = llm.ask(pieces.append, model)

    assert (turn.mode, turn.tool_calls[0].name) == ("json", "jira_create_issue")
    assert pieces == []


def test_no_tools_with_on_delta_streams_like_chat(llm):
    llm.double.script_replies([ANSWER])
    pieces: list[str] = []

    turn = llm.ask(pieces.append, tools=[])

    assert pieces == text_split_into_chunks(ANSWER)
    assert (turn.text, turn.tool_calls) == (ANSWER, ())
    sent = llm.sent()[0]
    assert sent["stream"] is True
    assert not sent.get("tools")


def test_no_tools_with_on_delta_is_not_retried_after_a_piece(llm):
    llm.double.script_replies([ANSWER])
    llm.double.cut_stream_next(after_chunks=llm.chunks_up_to_first_delta, path=llm.chat_path)
    pieces: list[str] = []

    with pytest.raises(LLMUnavailableError, match="broke off"):
        llm.ask(pieces.append, tools=[])

    assert pieces == ["Opened "]
    assert len(llm.sent()) == 1


def test_without_on_delta_a_tool_turn_stays_unstreamed(llm):
    llm.double.script_replies([[CREATE_CALL]])

    turn = llm.provider.chat_tools(QUESTION, tools=TOOLS, model=llm.model, temperature=0.0)

    assert turn.tool_calls[0].arguments == CREATE_ARGUMENTS
    assert not llm.sent()[0].get("stream")


def test_the_log_says_the_turn_was_streamed_but_never_its_text(llm, caplog):
    caplog.set_level(logging.DEBUG, logger="apps.integrations")
    llm.double.script_replies([{"raw_content": ANSWER, "tool_calls": [CREATE_CALL]}])

    llm.ask(lambda piece: None)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "mode=native tools=2 calls=jira_create_issue" in logged
    assert "streamed=True" in logged
    for never in ("PAY-1", "09:12", "You are NOX."):
        assert never not in logged


# --- Ollama ---------------------------------------------------------------------------------------


def test_ollama_streams_the_tools_request_with_its_options(ollama_llm):
    ollama_llm.ask(lambda piece: None)

    sent = ollama_llm.sent()[0]
    assert (sent["stream"], sent["options"]) == (True, {"temperature": 0.0})
    assert sent["tools"][0]["type"] == "function"


def test_ollama_refusing_tools_before_the_stream_falls_back_to_json_mode(ollama_llm):
    refusal = {"error": f"registry.ollama.ai/library/{ollama_llm.model} does not support tools"}
    ollama_llm.double.reply_next(Reply.json(refusal, status=400), path=ollama_llm.chat_path)
    ollama_llm.double.script_replies([ANSWER])
    pieces: list[str] = []

    turn = ollama_llm.ask(pieces.append)

    assert (turn.mode, turn.text, pieces) == ("json", ANSWER, [ANSWER])
    streamed, fallback = ollama_llm.sent()
    assert streamed["stream"] is True
    assert fallback["stream"] is False
    assert fallback["format"]
    assert ollama_llm.provider.tool_support(ollama_llm.model) is False


def test_ollama_a_stream_without_done_raises_a_response_error(ollama_llm):
    part = {
        "model": ollama_llm.model,
        "message": {"role": "assistant", "content": "Half"},
        "done": False,
    }
    ollama_llm.double.reply_next(
        Reply.stream([json.dumps(part).encode() + b"\n"], content_type="application/x-ndjson"),
        path=ollama_llm.chat_path,
    )
    pieces: list[str] = []

    with pytest.raises(LLMResponseError, match="without 'done'"):
        ollama_llm.ask(pieces.append)

    assert pieces == ["Half"]


# --- OpenAI ---------------------------------------------------------------------------------------


def test_openai_streams_the_tools_request_with_the_usage(openai_llm):
    openai_llm.ask(lambda piece: None)

    sent = openai_llm.sent()[0]
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})
    assert sent["tools"][0]["type"] == "function"


def test_openai_arguments_split_across_deltas_are_joined(openai_llm):
    openai_llm.double.script_replies([[CREATE_CALL]])

    turn = openai_llm.ask(lambda piece: None)

    body = json.dumps(CREATE_ARGUMENTS)
    assert len(body) > 2 * 10  # more than two pieces of the double's ARGUMENT_PIECE_CHARS
    assert turn.tool_calls == (
        ToolCall(name="jira_create_issue", arguments=CREATE_ARGUMENTS, id="call_1"),
    )


def test_openai_streamed_arguments_that_are_not_json_are_kept_raw(openai_llm):
    openai_llm.double.script_replies(
        [[{"name": "jira_create_issue", "raw_arguments": "{summary: oops"}]]
    )

    turn = openai_llm.ask(lambda piece: None)

    assert turn.tool_calls[0].arguments == "{summary: oops"


def test_openai_a_stream_without_a_finish_reason_raises_a_response_error(openai_llm):
    event = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": openai_llm.model,
        "choices": [{"index": 0, "delta": {"content": "Half"}, "finish_reason": None}],
    }
    openai_llm.double.reply_next(
        Reply.stream(
            [f"data: {json.dumps(event)}\n\n".encode(), b"data: [DONE]\n\n"],
            content_type="text/event-stream",
        ),
        path=openai_llm.chat_path,
    )

    with pytest.raises(LLMResponseError, match="finish_reason"):
        openai_llm.ask(lambda piece: None)
