"""The tool-calling contract, proven for both adapters through their real clients: one retry of
a transient failure (native and JSON mode), errors, no tools, what is logged, and how a JSON-mode
reply is read however messy. Vendor wire shapes are in test_llm_tools_ollama.py and
test_llm_tools_openai.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from apps.integrations.bases.llm import (
    ChatMessage,
    LLMProvider,
    LLMResponseError,
    LLMUnavailableError,
    ToolCall,
    ToolSpec,
    llm_provider_get,
    tool_reply_parse,
)
from tests.doubles.base import ProtocolDouble, Reply
from tests.doubles.openai import openai_error

SECRET_WORDS = "the vault passphrase is hunter2"
TOOLS = [
    ToolSpec(
        name="jira_create_issue",
        description="Open a Jira issue.",
        parameters={
            "type": "object",
            "properties": {"summary": {"type": "string"}},
            "required": ["summary"],
        },
    ),
    ToolSpec(
        name="http_probe",
        description="GET a URL.",
        parameters={"type": "object", "properties": {"url": {"type": "string"}}},
    ),
]
QUESTION = [
    ChatMessage(role="system", content="You are NOX."),
    ChatMessage(role="user", content=f"Open a ticket: {SECRET_WORDS}"),
]
CREATE_CALL = {"name": "jira_create_issue", "arguments": {"summary": "argument-value-42"}}


@dataclass
class ToolsUnderTest:
    provider: LLMProvider
    double: ProtocolDouble
    model: str
    chat_path: str
    vendor: str

    def json_mode(self) -> str:
        """Make the next ``chat_tools`` go to JSON mode; return the model to ask."""
        if self.vendor == "ollama":
            self.double.models.append("gemma2:9b")
            return "gemma2:9b"
        # An OpenAI-compatible server refusing tools for the model (Ollama's /v1).
        refusal = openai_error(f"{self.model} does not support tools", type_="api_error", code=None)
        self.double.reply_next(Reply.json(refusal, status=400), path=self.chat_path)
        return self.model

    def ask(self, model: str | None = None, *, tools: list[ToolSpec] = TOOLS):
        return self.provider.chat_tools(
            QUESTION, tools=tools, model=model or self.model, temperature=0.0
        )


@pytest.fixture(params=["ollama", "openai"])
def llm(request, settings) -> ToolsUnderTest:
    if request.param == "ollama":
        double = request.getfixturevalue("ollama_double")
        settings.LLM_PROVIDER = "ollama"
        return ToolsUnderTest(llm_provider_get(), double, "llama3.1:8b", "/api/chat", "ollama")
    double = request.getfixturevalue("openai_double")
    return ToolsUnderTest(
        llm_provider_get(), double, "gpt-4o-mini", "/v1/chat/completions", "openai"
    )


# --- the retry policy --------------------------------------------------------------------------


def test_a_transient_failure_of_a_native_turn_is_retried_once(llm):
    llm.double.fail_next(status=503, path=llm.chat_path)
    llm.double.script_replies([[CREATE_CALL]])

    turn = llm.ask()

    assert turn.mode == "native"
    assert [call.name for call in turn.tool_calls] == ["jira_create_issue"]
    assert len(llm.double.requests_to(llm.chat_path)) == 2


def test_a_transient_failure_of_a_json_turn_is_retried_once(llm):
    model = llm.json_mode()
    llm.double.fail_next(status=503, path=llm.chat_path)
    llm.double.script_replies([[CREATE_CALL]])

    turn = llm.ask(model)

    assert (turn.mode, turn.tool_calls[0].name) == ("json", "jira_create_issue")


def test_two_transient_failures_raise_unavailable(llm):
    llm.double.fail_next(2, status=503, path=llm.chat_path)

    with pytest.raises(LLMUnavailableError, match="after a retry"):
        llm.ask()


def test_an_unknown_model_raises_a_response_error_without_a_retry(llm):
    with pytest.raises(LLMResponseError):
        llm.ask("no-such-model:1b")

    assert len(llm.double.requests_to(llm.chat_path)) == 1


def test_an_unreachable_server_raises_unavailable(llm):
    llm.double.stop()

    with pytest.raises(LLMUnavailableError):
        llm.ask()


def test_the_duration_counts_the_whole_turn_retry_included(llm):
    llm.double.fail_next(status=503, path=llm.chat_path)
    llm.double.delay_next(0.2, path=llm.chat_path)  # the retry answers 0.2 s late

    turn = llm.ask()

    assert turn.duration_ms >= 200


# --- no tools ----------------------------------------------------------------------------------


def test_no_tools_is_a_plain_answer_with_no_calls(llm):
    llm.double.script_replies(["All green."])

    turn = llm.ask(tools=[])

    assert (turn.text, turn.tool_calls) == ("All green.", ())
    sent = llm.double.requests_to(llm.chat_path)[0].json
    assert not sent.get("tools")
    assert not sent.get("stream")


# --- what is logged ----------------------------------------------------------------------------


def test_the_logs_name_mode_and_tools_called_but_never_a_message_or_an_argument(llm, caplog):
    caplog.set_level(logging.DEBUG, logger="apps.integrations")
    llm.double.script_replies([[CREATE_CALL]])
    native = llm.ask()
    json_model = llm.json_mode()
    llm.double.script_replies([[CREATE_CALL]])
    json_turn = llm.ask(json_model)

    assert (native.mode, json_turn.mode) == ("native", "json")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "mode=native tools=2 calls=jira_create_issue" in logged
    assert "mode=json tools=2 calls=jira_create_issue" in logged
    for never in ("hunter2", "argument-value-42", "Open a Jira issue.", "You are NOX."):
        assert never not in logged


def test_a_tool_name_the_model_made_up_is_not_logged(llm, caplog):
    caplog.set_level(logging.INFO, logger="apps.integrations")
    llm.double.script_replies([[{"name": f"leak {SECRET_WORDS}", "arguments": {}}]])

    turn = llm.ask()

    assert turn.tool_calls[0].name == f"leak {SECRET_WORDS}"  # the caller refuses it
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "calls=<unknown>" in logged
    assert "hunter2" not in logged


# --- reading a JSON-mode reply, however messy ----------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "text", "calls"),
    [
        (
            '{"tool_calls": [{"name": "http_probe", "arguments": {"url": "https://x.test"}}],'
            ' "answer": ""}',
            "",
            (ToolCall(name="http_probe", arguments={"url": "https://x.test"}),),
        ),
        ('{"tool_calls": [], "answer": "All green."}', "All green.", ()),
        ('```json\n{"tool_calls": [], "answer": "Fenced."}\n```', "Fenced.", ()),
        (
            'Here you go: {"tool_calls": [], "answer": "Wrapped."} Hope it helps.',
            "Wrapped.",
            (),
        ),
        (
            '{"name": "http_probe", "arguments": {"url": "https://x.test"}}',
            "",
            (ToolCall(name="http_probe", arguments={"url": "https://x.test"}),),
        ),
        (
            '{"tool_calls": [{"name": "http_probe", "arguments": "{\\"url\\": \\"u\\"}"}],'
            ' "answer": ""}',
            "",
            (ToolCall(name="http_probe", arguments={"url": "u"}),),
        ),
        (
            '{"tool_calls": [{"name": "http_probe", "arguments": "u"}], "answer": ""}',
            "",
            (ToolCall(name="http_probe", arguments="u"),),
        ),
        (
            '{"tool_calls": {"name": "http_probe"}, "answer": null}',
            "",
            (ToolCall(name="http_probe", arguments={}),),
        ),
        ('{"tool_calls": ["http_probe"], "answer": ""}', "", (ToolCall("", "http_probe"),)),
        ('{"status": "ok"}', '{"status": "ok"}', ()),
        ('{"name": "rm_rf", "arguments": {}}', '{"name": "rm_rf", "arguments": {}}', ()),
        ('["not", "an", "object"]', '["not", "an", "object"]', ()),
        ("  The deploy is green.  ", "The deploy is green.", ()),
        ("", "", ()),
        ('{"tool_calls": [', '{"tool_calls": [', ()),
    ],
)
def test_a_json_mode_reply_is_read_without_ever_raising(reply, text, calls):
    assert tool_reply_parse(reply, tools=TOOLS) == (text, calls)


def test_an_unparseable_json_mode_reply_reaches_the_caller_as_text(llm):
    model = llm.json_mode()
    llm.double.script_replies([{"raw_content": "I cannot do JSON today."}])

    turn = llm.ask(model)

    assert (turn.mode, turn.text, turn.tool_calls) == ("json", "I cannot do JSON today.", ())
