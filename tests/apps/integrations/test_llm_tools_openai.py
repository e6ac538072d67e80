"""Tool calling with OpenAI (or a compatible server) on the wire: ``tools`` in chat completions,
arguments as JSON strings, call ids, and the ``json_schema`` fallback for a server that refuses
tools for a model. The policy shared with Ollama is in test_llm_tools_contract.py."""

from __future__ import annotations

import json

from apps.integrations.bases.llm import ChatMessage, ToolCall, ToolSpec, tool_reply_schema
from apps.integrations.openai.provider import OpenAIProvider
from tests.doubles.base import Reply
from tests.doubles.openai import openai_error

MODEL = "gpt-4o-mini"
JIRA_CREATE = ToolSpec(
    name="jira_create_issue",
    description="Open a Jira issue.",
    parameters={
        "type": "object",
        "properties": {"summary": {"type": "string"}, "priority": {"type": "string"}},
        "required": ["summary"],
        "additionalProperties": False,
    },
)
DNS_LOOKUP = ToolSpec(
    name="dns_lookup",
    description="Resolve a name.",
    parameters={"type": "object", "properties": {"name": {"type": "string"}}},
)
TOOLS = [JIRA_CREATE, DNS_LOOKUP]
QUESTION = [
    ChatMessage(role="system", content="You are ATLAS, a cloud architect."),
    ChatMessage(role="user", content="Open a ticket for the payments API."),
]
CREATE_CALL = {"name": "jira_create_issue", "arguments": {"summary": "Payments API down"}}


def _chat_requests(double) -> list[dict]:
    return [request.json for request in double.requests_to("/v1/chat/completions")]


def test_a_native_tool_call_comes_back_with_its_id_and_parsed_arguments(openai_double):
    openai_double.script_replies([[CREATE_CALL]])

    turn = OpenAIProvider().chat_tools(QUESTION, tools=TOOLS, model=MODEL, temperature=0.0)

    assert turn.mode == "native"
    assert turn.text == ""
    assert turn.tool_calls == (
        ToolCall(name="jira_create_issue", arguments={"summary": "Payments API down"}, id="call_1"),
    )
    assert (turn.prompt_tokens, turn.model) == (
        sum(len(m.content.split()) for m in QUESTION),
        MODEL,
    )


def test_the_tools_are_offered_as_functions_in_an_unstreamed_request(openai_double):
    OpenAIProvider().chat_tools(QUESTION, tools=TOOLS, model=MODEL, temperature=0.4)

    sent = _chat_requests(openai_double)[0]
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in TOOLS
    ]
    assert not sent.get("stream")
    assert sent["temperature"] == 0.4
    assert "response_format" not in sent


def test_arguments_that_are_not_json_are_kept_as_the_raw_string(openai_double):
    openai_double.script_replies([[{"name": "jira_create_issue", "raw_arguments": "{not json"}]])

    turn = OpenAIProvider().chat_tools(QUESTION, tools=TOOLS, model=MODEL, temperature=0.0)

    assert turn.tool_calls[0].arguments == "{not json"


def test_tool_support_is_assumed_without_asking_the_server(openai_double):
    assert OpenAIProvider().tool_support(MODEL) is True
    assert openai_double.requests == []


def test_the_next_request_replays_the_call_and_its_result_in_openais_shape(openai_double):
    openai_double.script_replies([[CREATE_CALL], "Opened PAY-1."])
    provider = OpenAIProvider()
    first = provider.chat_tools(QUESTION, tools=TOOLS, model=MODEL, temperature=0.0)
    history = [
        *QUESTION,
        ChatMessage(role="assistant", content="", tool_calls=first.tool_calls),
        ChatMessage(
            role="tool",
            content='{"key": "PAY-1"}',
            tool_call_id=first.tool_calls[0].id,
            tool_name="jira_create_issue",
        ),
    ]

    second = provider.chat_tools(history, tools=TOOLS, model=MODEL, temperature=0.0)

    assert second.text == "Opened PAY-1."
    assert _chat_requests(openai_double)[1]["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "jira_create_issue",
                        "arguments": '{"summary": "Payments API down"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"key": "PAY-1"}'},
    ]


def test_calls_without_ids_get_stable_ids_that_their_results_answer(openai_double):
    history = [
        *QUESTION,
        ChatMessage(
            role="assistant",
            content="Checking first.",
            tool_calls=(
                ToolCall(name="dns_lookup", arguments={"name": "pay.example.com"}),
                ToolCall(name="jira_create_issue", arguments={"summary": "Down"}),
            ),
        ),
        ChatMessage(role="tool", content='{"key": "PAY-1"}', tool_name="jira_create_issue"),
        ChatMessage(role="tool", content="203.0.113.7", tool_name="dns_lookup"),
    ]

    OpenAIProvider().chat_tools(history, tools=TOOLS, model=MODEL, temperature=0.0)
    OpenAIProvider().chat_tools(history, tools=TOOLS, model=MODEL, temperature=0.0)

    first, again = (sent["messages"] for sent in _chat_requests(openai_double))
    assert first == again  # the same ids in every request
    assert [c["id"] for c in first[2]["tool_calls"]] == ["call_2_0", "call_2_1"]
    assert first[2]["content"] == "Checking first."
    assert [(m["tool_call_id"], m["content"]) for m in first[3:]] == [
        ("call_2_1", '{"key": "PAY-1"}'),
        ("call_2_0", "203.0.113.7"),
    ]


def test_raw_arguments_are_replayed_as_the_model_sent_them(openai_double):
    history = [
        *QUESTION,
        ChatMessage(
            role="assistant",
            content="",
            tool_calls=(ToolCall(name="jira_create_issue", arguments="{not json", id="call_9"),),
        ),
        ChatMessage(role="tool", content="refused: not JSON", tool_call_id="call_9"),
    ]

    OpenAIProvider().chat_tools(history, tools=TOOLS, model=MODEL, temperature=0.0)

    replayed = _chat_requests(openai_double)[0]["messages"][2]["tool_calls"][0]
    assert replayed["function"]["arguments"] == "{not json"


def test_plain_chat_messages_are_unchanged(openai_double):
    OpenAIProvider().chat_tools(QUESTION, tools=TOOLS, model=MODEL, temperature=0.0)

    assert _chat_requests(openai_double)[0]["messages"] == [
        {"role": "system", "content": "You are ATLAS, a cloud architect."},
        {"role": "user", "content": "Open a ticket for the payments API."},
    ]


def test_a_server_refusing_tools_for_the_model_gets_a_json_schema_instead(openai_double):
    # Ollama's OpenAI-compatible endpoint, for a model without a tool template.
    refusal = openai_error(
        f"registry.ollama.ai/library/{MODEL} does not support tools", type_="api_error", code=None
    )
    openai_double.reply_next(Reply.json(refusal, status=400))
    openai_double.script_replies([[CREATE_CALL]])
    provider = OpenAIProvider()

    turn = provider.chat_tools(QUESTION, tools=TOOLS, model=MODEL, temperature=0.0)

    assert turn.mode == "json"
    assert turn.tool_calls == (
        ToolCall(name="jira_create_issue", arguments={"summary": "Payments API down"}),
    )
    refused, fallback = _chat_requests(openai_double)
    assert refused["tools"]
    assert "tools" not in fallback
    assert fallback["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": tool_reply_schema(TOOLS)},
    }
    assert "jira_create_issue" in fallback["messages"][0]["content"]
    assert provider.tool_support(MODEL) is False


def test_json_mode_with_openai_replays_tool_history_as_text(openai_double):
    refusal = openai_error(f"{MODEL} does not support tools", type_="api_error", code=None)
    openai_double.reply_next(Reply.json(refusal, status=400))
    history = [
        *QUESTION,
        ChatMessage(
            role="assistant",
            content="",
            tool_calls=(ToolCall(name="jira_create_issue", arguments={"summary": "Down"}),),
        ),
        ChatMessage(role="tool", content='{"key": "PAY-1"}', tool_name="jira_create_issue"),
    ]

    OpenAIProvider().chat_tools(history, tools=TOOLS, model=MODEL, temperature=0.0)

    messages = _chat_requests(openai_double)[1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert json.loads(messages[2]["content"])["tool_calls"][0]["name"] == "jira_create_issue"


def test_a_streamed_chat_of_the_double_can_carry_tool_calls(openai_double):
    # The double's streamed shape (id and name first, then the arguments in pieces), read by
    # the real client.
    import openai

    openai_double.script_replies([[CREATE_CALL]])
    client = openai.OpenAI(api_key=openai_double.api_key, base_url=f"{openai_double.url}/v1")
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    deltas = [chunk.choices[0] for chunk in stream if chunk.choices]

    calls = [c for d in deltas for c in (d.delta.tool_calls or [])]
    assert [(c.id, c.function.name) for c in calls if c.id] == [("call_1", "jira_create_issue")]
    assert {c.index for c in calls} == {0}
    pieces = [c.function.arguments for c in calls if c.function.arguments]
    assert len(pieces) >= 2
    assert json.loads("".join(pieces)) == CREATE_CALL["arguments"]
    assert deltas[-1].finish_reason == "tool_calls"
