"""Tool calling with Ollama on the wire: native ``tools`` in ``/api/chat``, the model's support
read from ``/api/show``, and the JSON fallback (a ``format`` schema) for a model without it.
The policy shared with OpenAI (retry, logging) is in test_llm_tools_contract.py."""

from __future__ import annotations

import json

from apps.integrations.bases.llm import (
    ChatMessage,
    ToolCall,
    ToolSpec,
    tool_reply_schema,
)
from apps.integrations.ollama.provider import OllamaProvider
from tests.doubles.base import Reply

TOOL_MODEL = "llama3.1:8b"
PLAIN_MODEL = "gemma2:9b"
JIRA_CREATE = ToolSpec(
    name="jira_create_issue",
    description="Open a Jira issue.",
    parameters={
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "One line."},
            "priority": {"type": "string", "enum": ["High", "Medium", "Low"]},
        },
        "required": ["summary"],
    },
)
HTTP_PROBE = ToolSpec(
    name="http_probe",
    description="GET a URL of an allow-listed host.",
    parameters={"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
)
TOOLS = [JIRA_CREATE, HTTP_PROBE]
QUESTION = [
    ChatMessage(role="system", content="You are NOX, a DevOps engineer."),
    ChatMessage(role="user", content="The payments API is down, open a ticket."),
]
CREATE_CALL = {"name": "jira_create_issue", "arguments": {"summary": "Payments API down"}}


def _with_plain_model(double) -> None:
    double.models.append(PLAIN_MODEL)


def _after_one_call() -> list[ChatMessage]:
    return [
        *QUESTION,
        ChatMessage(
            role="assistant",
            content="",
            tool_calls=(ToolCall(name="jira_create_issue", arguments={"summary": "Down"}),),
        ),
        ChatMessage(role="tool", content='{"key": "PAY-1"}', tool_name="jira_create_issue"),
    ]


# --- native tool calls -------------------------------------------------------------------------


def test_a_native_tool_call_comes_back_with_its_name_and_arguments(ollama_double):
    ollama_double.script_replies([[CREATE_CALL]])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert turn.mode == "native"
    assert turn.text == ""
    assert turn.tool_calls == (
        ToolCall(name="jira_create_issue", arguments={"summary": "Payments API down"}, id=""),
    )


def test_several_calls_of_one_turn_come_back_in_order(ollama_double):
    probe = {"name": "http_probe", "arguments": {"url": "https://pay.example.com/health"}}
    ollama_double.script_replies([[probe, CREATE_CALL]])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert [call.name for call in turn.tool_calls] == ["http_probe", "jira_create_issue"]


def test_a_text_answer_comes_back_as_text_without_calls(ollama_double):
    ollama_double.script_replies(["Nothing to do."])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert (turn.text, turn.tool_calls, turn.mode) == ("Nothing to do.", (), "native")


def test_the_tools_are_offered_in_ollamas_function_shape_unstreamed(ollama_double):
    OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.2)

    sent = ollama_double.requests_to("/api/chat")[0].json
    assert [tool["function"]["name"] for tool in sent["tools"]] == [
        "jira_create_issue",
        "http_probe",
    ]
    assert sent["tools"][0] == {
        "type": "function",
        "function": {
            "name": "jira_create_issue",
            "description": "Open a Jira issue.",
            "parameters": JIRA_CREATE.parameters,
        },
    }
    assert sent["stream"] is False
    assert sent["options"] == {"temperature": 0.2}
    assert "format" not in sent


def test_token_counts_and_the_serving_model_are_reported(ollama_double):
    ollama_double.script_replies([[CREATE_CALL]])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert turn.model == TOOL_MODEL
    assert turn.prompt_tokens and turn.prompt_tokens > 0
    assert turn.completion_tokens and turn.completion_tokens > 0
    assert turn.duration_ms >= 0


def test_the_next_request_replays_the_call_and_its_result_in_ollamas_shape(ollama_double):
    ollama_double.script_replies(["Opened PAY-1."])

    turn = OllamaProvider().chat_tools(
        _after_one_call(), tools=TOOLS, model=TOOL_MODEL, temperature=0.0
    )

    assert turn.text == "Opened PAY-1."
    messages = ollama_double.requests_to("/api/chat")[0].json["messages"]
    assert messages[2:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {"function": {"name": "jira_create_issue", "arguments": {"summary": "Down"}}}
            ],
        },
        {"role": "tool", "content": '{"key": "PAY-1"}', "tool_name": "jira_create_issue"},
    ]


def test_plain_messages_are_still_only_role_and_content(ollama_double):
    OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert ollama_double.requests_to("/api/chat")[0].json["messages"] == [
        {"role": "system", "content": "You are NOX, a DevOps engineer."},
        {"role": "user", "content": "The payments API is down, open a ticket."},
    ]


def test_a_plain_chat_replays_tool_calls_and_results_too(ollama_double):
    OllamaProvider().chat(_after_one_call(), model=TOOL_MODEL, temperature=0.0)

    messages = ollama_double.requests_to("/api/chat")[0].json["messages"]
    assert messages[2]["tool_calls"][0]["function"]["name"] == "jira_create_issue"
    assert messages[3]["role"] == "tool"


def test_arguments_that_were_not_an_object_are_replayed_wrapped(ollama_double):
    history = [
        *QUESTION,
        ChatMessage(
            role="assistant",
            content="",
            tool_calls=(ToolCall(name="jira_create_issue", arguments="Payments down"),),
        ),
        ChatMessage(role="tool", content="refused: not an object", tool_name="jira_create_issue"),
    ]

    OllamaProvider().chat_tools(history, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    replayed = ollama_double.requests_to("/api/chat")[0].json["messages"][2]
    assert replayed["tool_calls"][0]["function"]["arguments"] == {"_unparsed": "Payments down"}


# --- tool support, from /api/show --------------------------------------------------------------


def test_a_model_whose_capabilities_list_tools_supports_tools(ollama_double):
    assert OllamaProvider().tool_support(TOOL_MODEL) is True
    assert ollama_double.requests_to("/api/show")[0].json == {"model": TOOL_MODEL}


def test_a_model_without_tools_in_its_capabilities_does_not(ollama_double):
    _with_plain_model(ollama_double)
    assert OllamaProvider().tool_support(PLAIN_MODEL) is False


def test_a_server_that_lists_no_capabilities_is_taken_as_without_tools(ollama_double):
    ollama_double.capabilities[TOOL_MODEL] = None  # an Ollama older than 0.6
    assert OllamaProvider().tool_support(TOOL_MODEL) is False


def test_tool_support_is_asked_once_per_model_and_remembered(ollama_double):
    _with_plain_model(ollama_double)
    provider = OllamaProvider()

    answers = [provider.tool_support(TOOL_MODEL) for _ in range(3)]
    answers += [OllamaProvider().tool_support(TOOL_MODEL)]  # a new provider, same server
    answers += [provider.tool_support(PLAIN_MODEL) for _ in range(2)]

    assert answers == [True, True, True, True, False, False]
    asked = [request.json["model"] for request in ollama_double.requests_to("/api/show")]
    assert asked == [TOOL_MODEL, PLAIN_MODEL]


def test_tool_support_is_asked_again_once_the_memory_expired(ollama_double):
    provider = OllamaProvider()
    provider.tool_support_ttl_s = 0.0

    provider.tool_support(TOOL_MODEL)
    provider.tool_support(TOOL_MODEL)

    assert len(ollama_double.requests_to("/api/show")) == 2


def test_an_unknown_model_has_no_tool_support_and_is_asked_again_later(ollama_double):
    provider = OllamaProvider()
    assert provider.tool_support("llama3.2:3b") is False  # 404: not pulled yet

    ollama_double.models.append("llama3.2:3b")
    assert provider.tool_support("llama3.2:3b") is True
    assert len(ollama_double.requests_to("/api/show")) == 2


def test_an_unreachable_server_has_no_tool_support_and_nothing_is_raised(closed_port_url):
    assert OllamaProvider(host=closed_port_url).tool_support(TOOL_MODEL) is False


def test_a_failing_server_has_no_tool_support(ollama_double):
    ollama_double.fail_next(status=500, path="/api/show")
    assert OllamaProvider().tool_support(TOOL_MODEL) is False


# --- the JSON fallback -------------------------------------------------------------------------


def test_a_model_without_tools_gets_a_format_schema_instead_of_tools(ollama_double):
    _with_plain_model(ollama_double)

    OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    sent = ollama_double.requests_to("/api/chat")[0].json
    assert not sent.get("tools")
    assert sent["format"] == tool_reply_schema(TOOLS)
    names = sent["format"]["properties"]["tool_calls"]["items"]["properties"]["name"]
    assert names["enum"] == ["jira_create_issue", "http_probe"]
    assert sent["stream"] is False


def test_the_json_fallback_describes_the_tools_in_the_system_message(ollama_double):
    _with_plain_model(ollama_double)

    OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    messages = ollama_double.requests_to("/api/chat")[0].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    system = messages[0]["content"]
    assert system.startswith("You are NOX, a DevOps engineer.")
    assert "- jira_create_issue: Open a Jira issue." in system
    assert json.dumps(JIRA_CREATE.parameters, sort_keys=True) in system
    assert '"tool_calls"' in system and '"answer"' in system


def test_the_tools_get_a_system_message_of_their_own_when_there_is_none(ollama_double):
    _with_plain_model(ollama_double)
    question = [ChatMessage(role="user", content="Open a ticket.")]

    OllamaProvider().chat_tools(question, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    messages = ollama_double.requests_to("/api/chat")[0].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "jira_create_issue" in messages[0]["content"]


def test_the_json_envelope_is_parsed_into_calls(ollama_double):
    _with_plain_model(ollama_double)
    ollama_double.script_replies([[CREATE_CALL]])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    assert turn.mode == "json"
    assert turn.tool_calls == (
        ToolCall(name="jira_create_issue", arguments={"summary": "Payments API down"}),
    )
    assert turn.text == ""
    assert turn.model == PLAIN_MODEL


def test_a_json_answer_without_calls_is_the_text(ollama_double):
    _with_plain_model(ollama_double)
    ollama_double.script_replies(["The API answers 200 again."])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    assert (turn.text, turn.tool_calls, turn.mode) == ("The API answers 200 again.", (), "json")


def test_a_reply_that_is_not_json_is_the_answer_with_no_calls(ollama_double):
    _with_plain_model(ollama_double)
    ollama_double.script_replies([{"raw_content": "Sure! I will open the ticket."}])

    turn = OllamaProvider().chat_tools(QUESTION, tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    assert (turn.text, turn.tool_calls, turn.mode) == ("Sure! I will open the ticket.", (), "json")


def test_the_json_fallback_replays_calls_as_json_and_results_as_user_messages(ollama_double):
    _with_plain_model(ollama_double)

    OllamaProvider().chat_tools(_after_one_call(), tools=TOOLS, model=PLAIN_MODEL, temperature=0.0)

    messages = ollama_double.requests_to("/api/chat")[0].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert json.loads(messages[2]["content"]) == {
        "tool_calls": [{"name": "jira_create_issue", "arguments": {"summary": "Down"}}],
        "answer": "",
    }
    assert messages[3]["content"] == 'Result of the tool call jira_create_issue:\n{"key": "PAY-1"}'
    assert not any("tool_calls" in m for m in messages)


def test_a_refusal_of_tools_switches_to_json_and_is_remembered(ollama_double):
    refusal = {"error": f"registry.ollama.ai/library/{TOOL_MODEL} does not support tools"}
    ollama_double.reply_next(Reply.json(refusal, status=400), path="/api/chat")
    ollama_double.script_replies([[CREATE_CALL], "Done."])
    provider = OllamaProvider()

    first = provider.chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)
    second = provider.chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert (first.mode, first.tool_calls[0].name) == ("json", "jira_create_issue")
    assert (second.mode, second.text) == ("json", "Done.")
    chats = ollama_double.requests_to("/api/chat")
    assert [bool(c.json.get("tools")) for c in chats] == [True, False, False]
    assert [bool(c.json.get("format")) for c in chats] == [False, True, True]
    assert len(ollama_double.requests_to("/api/show")) == 1
    assert provider.tool_support(TOOL_MODEL) is False


def test_a_model_pulled_again_without_tools_is_refused_by_ollama_then_asked_in_json(
    ollama_double,
):
    provider = OllamaProvider()
    assert provider.tool_support(TOOL_MODEL) is True
    ollama_double.capabilities[TOOL_MODEL] = ["completion"]  # remembered answer now stale

    turn = provider.chat_tools(QUESTION, tools=TOOLS, model=TOOL_MODEL, temperature=0.0)

    assert turn.mode == "json"
    first, second = ollama_double.requests_to("/api/chat")
    assert first.json["tools"] and "format" not in first.json
    assert second.json["format"] and not second.json.get("tools")


# --- no tools --------------------------------------------------------------------------------


def test_no_tools_is_a_plain_unstreamed_answer_without_asking_show(ollama_double):
    ollama_double.script_replies(["All green."])

    turn = OllamaProvider().chat_tools(QUESTION, tools=[], model=TOOL_MODEL, temperature=0.0)

    assert (turn.text, turn.tool_calls) == ("All green.", ())
    sent = ollama_double.requests_to("/api/chat")[0].json
    assert sent["stream"] is False
    assert not sent.get("tools") and "format" not in sent
    assert ollama_double.requests_to("/api/show") == []


def test_no_tools_for_a_model_without_them_replays_tool_history_as_text(ollama_double):
    _with_plain_model(ollama_double)

    OllamaProvider().chat_tools(_after_one_call(), tools=[], model=PLAIN_MODEL, temperature=0.0)

    messages = ollama_double.requests_to("/api/chat")[0].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == '(tools called: jira_create_issue {"summary": "Down"})'
    assert "format" not in ollama_double.requests_to("/api/chat")[0].json


def test_a_streamed_chat_of_the_double_carries_tool_calls_in_one_chunk(ollama_double):
    # The double's streamed shape, read by the real client (a streamed tool turn is not
    # used by Jamono; the double answers it as Ollama does).
    import ollama

    ollama_double.script_replies([[CREATE_CALL]])
    parts = list(
        ollama.Client(host=ollama_double.url).chat(
            model=TOOL_MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )

    calls = [c for part in parts for c in (part.message.tool_calls or [])]
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("jira_create_issue", {"summary": "Payments API down"})
    ]
    assert parts[-1].done
