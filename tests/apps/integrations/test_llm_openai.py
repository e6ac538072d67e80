"""The OpenAI adapter on the wire: what the official client sends to the OpenAI double, and how
OpenAI-specific answers are read. The shared retry policy is in test_llm_provider.py."""

from __future__ import annotations

import json
import logging

import pytest

from apps.integrations.bases.llm import ChatMessage, LLMResponseError
from apps.integrations.openai.provider import OpenAIProvider
from tests.doubles.base import Reply

MODEL = "gpt-4o-mini"
CONVERSATION = [
    ChatMessage(role="system", content="You are ATLAS, a cloud architect."),
    ChatMessage(role="user", content="Which subnet is public?"),
]


def _completion(content: str, *, prompt_tokens: int, completion_tokens: int) -> Reply:
    return Reply.json(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def test_the_messages_model_and_temperature_reach_chat_completions(openai_double):
    OpenAIProvider().chat(CONVERSATION, model=MODEL, temperature=0.7)

    sent = openai_double.requests_to("/v1/chat/completions")[0].json
    assert sent["model"] == MODEL
    assert sent["messages"] == [
        {"role": "system", "content": "You are ATLAS, a cloud architect."},
        {"role": "user", "content": "Which subnet is public?"},
    ]
    assert sent["temperature"] == 0.7
    assert not sent.get("stream")


def test_a_streamed_chat_asks_for_the_usage_in_the_stream(openai_double):
    OpenAIProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=True)

    sent = openai_double.requests_to("/v1/chat/completions")[0].json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_the_api_key_is_sent_as_a_bearer_token(openai_double):
    OpenAIProvider().chat(CONVERSATION, model=MODEL, temperature=0.0)
    sent = openai_double.requests_to("/v1/chat/completions")[0]
    assert sent.headers["authorization"] == f"Bearer {openai_double.api_key}"


def test_token_counts_and_model_are_the_servers_usage_and_model(openai_double):
    openai_double.reply_next(_completion("10.0.1.0/24", prompt_tokens=111, completion_tokens=7))

    result = OpenAIProvider().chat(CONVERSATION, model=MODEL, temperature=0.0)

    assert result.text == "10.0.1.0/24"
    assert result.model == "gpt-4o-mini-2024-07-18"
    assert (result.prompt_tokens, result.completion_tokens) == (111, 7)


def test_a_wrong_api_key_raises_llm_response_error_without_a_retry(openai_double, caplog):
    caplog.set_level(logging.DEBUG)
    provider = OpenAIProvider(api_key="sk-wrong-0123456789")

    with pytest.raises(LLMResponseError, match=r"API key was rejected.*401") as raised:
        provider.chat(CONVERSATION, model=MODEL, temperature=0.0)

    assert "0123456789" not in str(raised.value)
    assert "0123456789" not in caplog.text
    assert len(openai_double.requests_to("/v1/chat/completions")) == 1


def test_an_unknown_model_error_carries_openais_reason(openai_double):
    with pytest.raises(LLMResponseError, match=r"`gpt-9` does not exist.*gpt-9"):
        OpenAIProvider().chat(CONVERSATION, model="gpt-9", temperature=0.0)


def test_an_error_event_before_any_text_is_retried_like_a_server_failure(openai_double):
    error = {"error": {"message": "The server had an error", "type": "server_error"}}
    openai_double.reply_next(
        Reply.stream([f"data: {json.dumps(error)}\n\n".encode()], content_type="text/event-stream")
    )

    result = OpenAIProvider().chat(CONVERSATION, model=MODEL, temperature=0.0, stream=True)

    assert result.text == openai_double.reply_text
    assert len(openai_double.requests_to("/v1/chat/completions")) == 2


def test_embeddings_are_requested_as_floats_for_all_texts_at_once(openai_double):
    OpenAIProvider().embed(["disk full", "dns down"], model="text-embedding-3-small")

    sent = openai_double.requests_to("/v1/embeddings")[0].json
    assert sent["input"] == ["disk full", "dns down"]
    assert sent["encoding_format"] == "float"


def test_embeddings_come_back_in_the_order_of_the_texts(openai_double):
    openai_double.reply_next(
        Reply.json(
            {
                "object": "list",
                "model": "text-embedding-3-small",
                "data": [
                    {"object": "embedding", "index": 1, "embedding": [0.0, 1.0]},
                    {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]},
                ],
            }
        )
    )
    assert OpenAIProvider().embed(["first", "second"]) == [[1.0, 0.0], [0.0, 1.0]]


def test_health_lists_the_models_from_v1_models(openai_double):
    health = OpenAIProvider().health()
    assert health.models == ["gpt-4o-mini", "text-embedding-3-small"]


def test_health_with_a_wrong_key_is_unreachable_and_does_not_show_the_key(openai_double):
    health = OpenAIProvider(api_key="sk-wrong-0123456789").health()
    assert not health.reachable
    assert "rejected" in health.detail
    assert "6789" not in health.detail
